import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import { DEV_SECRETS } from '@plexus/kit';
import {
  ByteWriter,
  ClientOp,
  CloseCodes,
  ErrorCodes,
  type ErrorName,
  encodeHello,
  encodeMove,
  encodePing,
  PROTOCOL_VERSION,
  type ServerFrame,
  ServerOp,
  TICKET_ISSUER,
} from '@plexus/protocol';
import { type Stack, startStack, waitFor } from '@plexus/testkit';
import { generateKeyPair, SignJWT } from 'jose';
import { type EnvelopeBody, post, rawHttp } from './helpers.ts';
import { helloAndClose, rawConnect, withTimeout } from './raw-socket.ts';

function errorOf(frames: ServerFrame[]): ErrorName | undefined {
  const f = frames.find((x) => x.op === ServerOp.ERROR);
  return f && f.op === ServerOp.ERROR ? (f.name as ErrorName) : undefined;
}

// Every door gets garbage; each answers with its documented error and nothing falls over.
describe('bad input at every door', () => {
  let stack: Stack;
  let sessionId: string;
  before(async () => {
    // Short tickets so one can be seen expiring.
    stack = await startStack({ servers: 2, env: { PLEXUS_TICKET_TTL_MS: '1000' } });
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
    await client.loginAsGuest({ firstName: 'Tester' });
    sessionId = client.sessionId as string;
  });
  after(async () => {
    await stack?.stop();
  });

  const expectError = (
    res: { status: number; body: { data: unknown; error: { status: boolean; code: number } } },
    name: ErrorName,
  ) => {
    assert.equal(res.body.error.status, true);
    assert.equal(res.body.data, null);
    assert.equal(
      res.body.error.code,
      ErrorCodes[name].code,
      `expected ${name}, got code ${res.body.error.code}`,
    );
    assert.equal(res.status, ErrorCodes[name].status);
  };

  test('backend RPCs: malformed JSON, missing fields, wrong types, bad session', async () => {
    const rpc = (m: string) => `${stack.backendUrl}/api/v0/rpc/${m}`;
    expectError(await post(rpc('auth.guest'), '{"firstName":'), 'COMMON_MALFORMED_JSON');
    expectError(await post(rpc('auth.guest'), {}), 'COMMON_BAD_REQUEST');
    expectError(await post(rpc('auth.guest'), { firstName: 42 }), 'COMMON_BAD_REQUEST');
    expectError(
      await post(rpc('auth.login'), { email: 'nobody@example.com', password: 'wrong-password' }),
      'AUTH_INVALID_CREDENTIALS',
    );
    expectError(
      await post(rpc('profile.get'), {}, { authorization: 'Bearer not-a-session' }),
      'AUTH_INVALID_SESSION',
    );
    expectError(await post(rpc('profile.get'), {}), 'AUTH_SESSION_REQUIRED');
    expectError(await post(rpc('nope.nothing'), {}), 'COMMON_NOT_FOUND');
  });

  test('partner RPC: missing or wrong partner key, unknown session', async () => {
    const url = `${stack.backendUrl}/api/v0/partnerRpc/authCheck.getUserBySessionId`;
    expectError(await post(url, { sessionId }), 'AUTH_PARTNER_KEY_REQUIRED');
    expectError(
      await post(url, { sessionId }, { authorization: 'Bearer wrong' }),
      'AUTH_PARTNER_KEY_REQUIRED',
    );
    const auth = { authorization: `Bearer ${stack.partnerKey}` };
    expectError(await post(url, { sessionId: 'unknown-session-id' }, auth), 'AUTH_INVALID_SESSION');
    expectError(await post(url, { sessionId: 7 }, auth), 'COMMON_BAD_REQUEST');
  });

  test('balancer: malformed JSON, missing session, bad session, bad playground id', async () => {
    const url = `${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`;
    expectError(await post(url, 'not json'), 'COMMON_MALFORMED_JSON');
    expectError(await post(url, { playgroundId: 'x' }), 'LB_SESSION_REQUIRED');
    expectError(await post(url, { sessionId: 'forged', playgroundId: 'x' }), 'AUTH_INVALID_SESSION');
    expectError(await post(url, { sessionId, playgroundId: 'no spaces/allowed' }), 'COMMON_BAD_REQUEST');
    expectError(await post(url, { sessionId, playgroundId: ['x'] }), 'COMMON_BAD_REQUEST');
    expectError(
      await post(`${stack.balancerUrl}/lb/api/v0/getEndpoint`, { sessionId, criteria: 'fast' }),
      'COMMON_BAD_REQUEST',
    );
  });

  test('backend: a client that aborts its request body is logged as such, not as a database outage', async () => {
    const { hostname, port } = new URL(stack.backendUrl);
    const from = stack.backend.logs.length;
    const sock = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const body = JSON.stringify({ firstName: 'Half' });
    // Expect: 100-continue makes the backend say when it holds the headers and waits for the body.
    const continued = new Promise<void>((resolve) =>
      sock.on('data', (chunk: Buffer) => {
        if (chunk.toString().startsWith('HTTP/1.1 100')) resolve();
      }),
    );
    sock.write(
      'POST /api/v0/rpc/auth.guest HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n' +
        `expect: 100-continue\r\ncontent-length: ${body.length + 100}\r\n\r\n`,
    );
    await withTimeout(continued, 5000, '100 Continue');
    // Part of the body, then the client goes away without a FIN.
    await new Promise<void>((resolve) => sock.write(body, () => resolve()));
    sock.resetAndDestroy();
    const lines = () => stack.backend.logs.slice(from);
    await waitFor(
      () => lines().some((r) => r.msg === 'client aborted the request' || Number(r.level) >= 50),
      {
        timeoutMs: 5000,
        what: 'the abort logged',
      },
    );
    // The error handler runs right after the abort hook: one more request lets it finish logging.
    await fetch(`${stack.backendUrl}/healthz`);
    assert.deepEqual(
      lines().filter((r) => Number(r.level) >= 40),
      [],
      'nothing at warn or error level',
    );
    assert.ok(lines().some((r) => r.msg === 'client aborted the request'));
  });

  test('HTTP layer: deep JSON, empty forwarded bodies, bad request lines and huge headers get the envelope', async () => {
    // ~4,400 levels of nesting in criteria, no session needed: a 400 naming the limit, not a 500.
    const deep = `{"criteria":{"a":${'['.repeat(4_400)}${']'.repeat(4_400)}}}`;
    expectError(await post(`${stack.balancerUrl}/lb/api/v0/getEndpoint`, deep), 'COMMON_JSON_TOO_DEEP');
    expectError(await post(`${stack.backendUrl}/api/v0/rpc/auth.guest`, deep), 'COMMON_JSON_TOO_DEEP');
    // An empty JSON body through the balancer's RPC forwarder is the documented 1001, as at the backend.
    for (const method of ['auth.guest', 'profile.update']) {
      expectError(
        await post(`${stack.balancerUrl}/api/v0/rpc/${method}`, '', { authorization: `Bearer ${sessionId}` }),
        'COMMON_MALFORMED_JSON',
      );
    }
    for (const url of [stack.backendUrl, stack.balancerUrl, ...stack.servers.map((s) => s.url)]) {
      const badLine = await rawHttp(url, 'NOT A REQUEST\r\n\r\n');
      assert.equal(badLine.status, 400, url);
      assert.equal(badLine.body.error.code, ErrorCodes.COMMON_BAD_REQUEST.code);
      assert.equal(badLine.body.data, null);
      const huge = await rawHttp(
        url,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      assert.equal(huge.status, 431, url);
      assert.equal(huge.body.error.code, ErrorCodes.COMMON_HEADERS_TOO_LARGE.code);
    }
  });

  test('a private playground: the registry names no playground without the operator key, and its id alone opens nothing', async () => {
    const operatorAuth = { authorization: `Bearer ${DEV_SECRETS.operatorKey}` };
    const created = await post(
      `${stack.backendUrl}/api/v0/operatorRpc/playgrounds.create`,
      { id: 'secret-room', name: 'Secret', type: 'secret-room', capacity: 10, visibility: 'private' },
      operatorAuth,
    );
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const inviteCode = created.body.data.playground.inviteCode as string;
    const insider = new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
    await insider.loginAsGuest({ firstName: 'Insider' });
    const pg = await insider.join({ playgroundId: 'secret-room', inviteCode });

    // The operator sees it hosted; anyone else sees counts, never ids.
    const listing = async (headers: Record<string, string> = {}) =>
      (await (await fetch(`${stack.balancerUrl}/lb/api/v0/servers`, { headers })).json()) as {
        data: { servers: { playgroundCount: number; playgrounds?: { playgroundId: string }[] }[] };
      };
    await waitFor(
      async () =>
        (await listing(operatorAuth)).data.servers.some((s) =>
          s.playgrounds?.some((p) => p.playgroundId === 'secret-room'),
        ),
      { timeoutMs: 10_000, what: 'secret-room in the operator listing' },
    );
    const anonymous = await listing();
    assert.ok(!JSON.stringify(anonymous).includes('secret-room'), JSON.stringify(anonymous));
    assert.ok(anonymous.data.servers.every((s) => s.playgrounds === undefined));
    assert.ok(anonymous.data.servers.some((s) => s.playgroundCount >= 1));

    // Knowing the id is not enough: no code → MATCH_INVITE_INVALID, no ticket.
    const url = `${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`;
    const outsider = new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
    await outsider.loginAsGuest({ firstName: 'Outsider' });
    expectError(
      await post(url, { sessionId: outsider.sessionId, playgroundId: 'secret-room' }),
      'MATCH_INVITE_INVALID',
    );
    const withCode = await post(url, {
      sessionId: outsider.sessionId,
      playgroundId: 'secret-room',
      inviteCode,
    });
    assert.equal(withCode.status, 200, JSON.stringify(withCode.body));
    // Someone who came in with the code may come back without it.
    const back = await post(url, { sessionId: insider.sessionId, playgroundId: 'secret-room' });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    await pg.leave();
  });

  const grant = async (playgroundId: string) => {
    const res = await post(`${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`, {
      sessionId,
      playgroundId,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data as { endpoint: string; ticket: string; serverId: string; expiresAt: string };
  };

  test('dedicated server: forged, replayed, wrong-target and wrong-version handshakes are refused', async () => {
    // Forged: a well-formed ticket signed with a key that is not the balancer's.
    const g = await grant('forgery');
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT({
      pg: 'forgery',
      prof: {
        firstName: 'Mallory',
        lastName: '',
        privacyMode: 0,
        avatar: '',
        companyName: '',
        companyTitle: '',
      },
    })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(TICKET_ISSUER)
      .setAudience(g.serverId)
      .setSubject('mallory')
      .setJti('forged-ticket-id-0000000000')
      .setIssuedAt()
      .setExpirationTime('30s')
      .sign(privateKey);
    let r = await helloAndClose(g.endpoint, forged);
    assert.equal(errorOf(r.frames), 'PROTOCOL_TICKET_INVALID');
    assert.equal(r.code, CloseCodes.TICKET_INVALID);

    // Wrong version, then the same (unused) ticket still works once, then is replayed.
    r = await helloAndClose(g.endpoint, g.ticket, PROTOCOL_VERSION + 41);
    assert.equal(errorOf(r.frames), 'PROTOCOL_UNSUPPORTED_VERSION');
    assert.equal(r.code, CloseCodes.UNSUPPORTED_VERSION);

    const ok = rawConnect(g.endpoint);
    await ok.opened;
    ok.send(encodeHello(PROTOCOL_VERSION, g.ticket));
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (ok.frames.some((f) => f.op === ServerOp.STATE)) {
            clearInterval(check);
            resolve();
          }
        }, 10);
      }),
      5000,
      'welcome snapshot',
    );
    r = await helloAndClose(g.endpoint, g.ticket);
    assert.equal(errorOf(r.frames), 'PROTOCOL_TICKET_REPLAYED');
    assert.equal(r.code, CloseCodes.TICKET_REPLAYED);
    ok.ws.close();

    // Wrong target: a ticket for one server presented to the other.
    const g2 = await grant('elsewhere');
    const servers = (await (await fetch(`${stack.balancerUrl}/lb/api/v0/servers`)).json()) as {
      data: { servers: { serverId: string; endpoint: string }[] };
    };
    const other = servers.data.servers.find((s) => s.serverId !== g2.serverId);
    assert.ok(other, 'a second server is registered');
    r = await helloAndClose(other.endpoint, g2.ticket);
    assert.equal(errorOf(r.frames), 'PROTOCOL_TICKET_WRONG_TARGET');
    assert.equal(r.code, CloseCodes.TICKET_WRONG_TARGET);
  });

  test('dedicated server: an expired ticket is refused', async () => {
    const g = await grant('too-late');
    // The ticket TTL of this stack is 1 s. Wait it out, plus the servers' 2 s clock-skew tolerance
    // and the 1 s resolution of JWT `exp`.
    const expiredAt = Date.parse(g.expiresAt) + 2000 + 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, expiredAt - Date.now())));
    const r = await helloAndClose(g.endpoint, g.ticket);
    assert.equal(errorOf(r.frames), 'PROTOCOL_TICKET_INVALID');
    assert.equal(r.code, CloseCodes.TICKET_INVALID);
  });

  test('dedicated server: garbage, text and out-of-order frames close only that socket', async () => {
    const { endpoint } = await grant('garbage');
    const cases: [Uint8Array | string, ErrorName, number][] = [
      [Uint8Array.of(0xde, 0xad, 0xbe, 0xef), 'PROTOCOL_MALFORMED_FRAME', CloseCodes.PROTOCOL_ERROR],
      ['hello?', 'PROTOCOL_MALFORMED_FRAME', CloseCodes.PROTOCOL_ERROR],
      [
        encodeMove(1, { x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 0, w: 1 }),
        'PROTOCOL_UNEXPECTED_FRAME',
        CloseCodes.PROTOCOL_ERROR,
      ],
    ];
    for (const [bytes, name, code] of cases) {
      const sock = rawConnect(endpoint);
      await sock.opened;
      sock.send(bytes);
      const closed = await withTimeout(sock.closed, 5000, `close after ${name}`);
      assert.equal(errorOf(sock.frames), name);
      assert.equal(closed.code, code);
    }
  });

  test('display fields refuse control and bidi-override characters at every door', async () => {
    const rpc = (m: string) => `${stack.backendUrl}/api/v0/rpc/${m}`;
    const refusedField = async (res: Promise<{ status: number; body: EnvelopeBody }>, field: string) => {
      const r = await res;
      expectError(r, 'COMMON_BAD_REQUEST');
      assert.match(r.body.error.message, new RegExp(`${field}: must not contain control`));
    };
    await refusedField(post(rpc('auth.guest'), { firstName: 'Ev\u0000il' }), 'firstName');
    await refusedField(post(rpc('auth.guest'), { firstName: 'Eve', lastName: 'gro\u202Eevil' }), 'lastName');
    await refusedField(
      post(rpc('auth.register'), {
        email: 'bidi@example.com',
        password: 'long-enough-1',
        firstName: '\u2066Bidi',
      }),
      'firstName',
    );
    const bearer = { authorization: `Bearer ${sessionId}` };
    await refusedField(post(rpc('profile.update'), { companyName: 'ACME\u2069 Ltd' }, bearer), 'companyName');
    await refusedField(post(rpc('profile.update'), { companyTitle: 'line\none' }, bearer), 'companyTitle');
    await refusedField(
      post(
        `${stack.backendUrl}/api/v0/operatorRpc/playgrounds.create`,
        { id: 'bidi-hall', name: 'Hall \u202D', type: 'open-world', capacity: 4 },
        { authorization: `Bearer ${DEV_SECRETS.operatorKey}` },
      ),
      'name',
    );
    // Plain text (accents, other scripts, emoji) still passes.
    assert.equal((await post(rpc('profile.update'), { companyName: 'Zoë — 東京 🚀' }, bearer)).status, 200);

    // On the wire: an entity's string prop, and a whisper's text.
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
    await client.loginAsGuest({ firstName: 'Wire' });
    const pg = await client.join({ playgroundId: 'bidi-props' });
    const spawned = await pg.spawn({
      kind: 'object',
      position: { x: 1, y: 0, z: 1 },
      props: { label: 'gift\u202Etxt.exe' },
    });
    assert.equal(spawned.ok ? 'spawned' : spawned.error.name, 'PROTOCOL_INVALID_PROPS');
    const reply = new Promise<{ type: string; payload: unknown }>((resolve) =>
      pg.on('message', (m) => {
        if (m.type.startsWith('whisper.')) resolve(m);
      }),
    );
    pg.send('whisper', { toUserId: 'someone', text: 'hi\u0000there' });
    const answer = await withTimeout(reply, 5000, 'whisper answer');
    assert.equal(answer.type, 'whisper.failed');
    assert.match(JSON.stringify(answer.payload), /must not contain control/);
    await pg.leave();
  });

  test('a MESSAGE that grows past 8 KiB when re-encoded gets a non-fatal client error, not a logic error', async () => {
    const { endpoint, ticket } = await grant('grow-on-encode');
    const sock = rawConnect(endpoint);
    await sock.opened;
    sock.send(encodeHello(PROTOCOL_VERSION, ticket));
    const until = (what: string, ok: () => boolean) =>
      withTimeout(
        new Promise<void>((resolve) => {
          const check = setInterval(() => {
            if (ok()) {
              clearInterval(check);
              resolve();
            }
          }, 10);
        }),
        5000,
        what,
      );
    await until('welcome snapshot', () => sock.frames.some((f) => f.op === ServerOp.STATE));
    // 8,000 bytes as sent (within the frame's 8,192); 35,200 once 1e20 is written out in full.
    const text = `[${Array(1600).fill('1e20').join(',')}]`;
    assert.ok(text.length <= 8192);
    sock.send(new ByteWriter(text.length + 16).u8(ClientOp.MESSAGE).string('grow').string(text).finish());
    await until('an ERROR frame', () => errorOf(sock.frames) !== undefined);
    assert.equal(errorOf(sock.frames), 'PROTOCOL_MESSAGE_TOO_LARGE');
    // Not fatal: the connection still answers.
    sock.send(encodePing(1));
    await until('PONG', () => sock.frames.some((f) => f.op === ServerOp.PONG));
    sock.ws.close();
    const host = stack.servers.find((s) => s.url === endpoint.replace(/^ws/, 'http').replace(/\/ws$/, ''));
    const errors = (host?.logs ?? []).filter((r) => Number(r.level) >= 50);
    assert.deepEqual(errors, [], 'a client mistake logs nothing at error level');
  });

  test('after all of that every process is alive and a normal join still works', async () => {
    for (const url of [stack.backendUrl, stack.balancerUrl, ...stack.servers.map((s) => s.url)]) {
      assert.equal((await fetch(`${url}/healthz`)).status, 200, url);
    }
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
    await client.loginAsGuest({ firstName: 'Survivor' });
    const pg = await client.join({ playgroundId: 'garbage' });
    assert.ok(pg.entities.has(pg.selfId));
    await pg.leave();
  });
});
