import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { loadBackendConfig, startBackend } from '@plexus/backend';
import { DEV_SECRETS, signResumeToken } from '@plexus/kit';
import { type EndpointGrant, type Envelope, HttpPaths, TICKET_ISSUER } from '@plexus/protocol';
import { importJWK, jwtVerify } from 'jose';
import { type BalancerHandle, startBalancer } from './start.ts';
import {
  type ControlClient,
  registeredClient,
  silentLogger,
  TEST_SECRET,
  testConfig,
  waitFor,
} from './test-support.ts';

// The real backend, in process: sessions, matchmaking and analytics are its own.
const dataDir = mkdtempSync(join(tmpdir(), 'plexus-lb-join-'));
let backend: Awaited<ReturnType<typeof startBackend>>;
const balancers: BalancerHandle[] = [];
const clients: ControlClient[] = [];

before(async () => {
  backend = await startBackend(loadBackendConfig({}, { port: 0, dataDir }), { logger: silentLogger() });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const b of balancers.splice(0)) await b.close();
});

after(async () => {
  await backend?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function balancer(): Promise<BalancerHandle> {
  const lb = await startBalancer(testConfig({ backendUrl: backend.url }), {
    logger: silentLogger(),
    events: false,
  });
  balancers.push(lb);
  return lb;
}

async function server(lb: BalancerHandle, serverId: string, overrides: Record<string, unknown> = {}) {
  const client = await registeredClient(lb.url, serverId, overrides);
  clients.push(client);
  return client;
}

async function backendCall<T>(path: string, body: unknown, bearer?: string): Promise<T> {
  const res = await fetch(`${backend.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return (JSON.parse(text) as Envelope<T>).data as T;
}

async function guest(): Promise<{ sessionId: string; userId: string }> {
  const data = await backendCall<{ sessionId: string; user: { id: string } }>(
    `${HttpPaths.rpcPrefix}auth.guest`,
    {
      firstName: 'Guest',
    },
  );
  return { sessionId: data.sessionId, userId: data.user.id };
}

async function joinNamed(lb: BalancerHandle, body: Record<string, unknown>) {
  const res = await fetch(`${lb.url}${HttpPaths.getEndpointPlaygroundId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Envelope<EndpointGrant> };
}

function resumeToken(
  userId: string,
  playgroundId: string,
  expiresAt = Date.now() + 60_000,
  secret = TEST_SECRET,
) {
  return signResumeToken(secret, { userId, playgroundId, entityId: 7, expiresAt });
}

test('named joins go through the backend’s matchmaking: instances, invite codes, its errors relayed', async () => {
  const lb = await balancer();
  await server(lb, 'ds-mm', { capacity: 50 });
  await backendCall(
    `${HttpPaths.operatorRpcPrefix}playgrounds.create`,
    { id: 'expo-hall', name: 'Expo hall', type: 'expo', capacity: 1, maxInstances: 2 },
    DEV_SECRETS.operatorKey,
  );
  const [a, b, c] = [await guest(), await guest(), await guest()];
  const first = await joinNamed(lb, { sessionId: a.sessionId, playgroundId: 'expo-hall' });
  assert.equal(first.body.data?.playgroundId, 'expo-hall');
  const second = await joinNamed(lb, { sessionId: b.sessionId, playgroundId: 'expo-hall' });
  assert.equal(second.status, 200);
  assert.equal(second.body.data?.playgroundId, 'expo-hall#2');
  const { payload } = await jwtVerify(
    second.body.data?.ticket as string,
    await importJWK(lb.balancer.signer.publicJwk, 'EdDSA'),
    { issuer: TICKET_ISSUER, audience: 'ds-mm' },
  );
  assert.equal(payload.pg, 'expo-hall#2');
  const third = await joinNamed(lb, { sessionId: c.sessionId, playgroundId: 'expo-hall' });
  assert.equal(third.status, 503);
  assert.equal(third.body.error.code, 3100);

  const vip = await backendCall<{ playground: { inviteCode: string } }>(
    `${HttpPaths.operatorRpcPrefix}playgrounds.create`,
    { id: 'vip-room', name: 'VIP', type: 'lounge', capacity: 10, visibility: 'private' },
    DEV_SECRETS.operatorKey,
  );
  const wrong = await joinNamed(lb, { sessionId: c.sessionId, playgroundId: 'vip-room', inviteCode: 'NOPE' });
  assert.equal(wrong.status, 404);
  assert.equal(wrong.body.error.code, 3104);
  const right = await joinNamed(lb, {
    sessionId: c.sessionId,
    playgroundId: 'vip-room',
    inviteCode: vip.playground.inviteCode,
  });
  assert.equal(right.status, 200, JSON.stringify(right.body.error));
  assert.equal(right.body.data?.playgroundId, 'vip-room');

  // Each refusal was recorded for the backend's analytics, with the error's name as the reason.
  await lb.balancer.analytics.flush();
  const res = await fetch(`${backend.url}${HttpPaths.operatorRpcPrefix}analytics.export`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DEV_SECRETS.operatorKey}` },
    body: JSON.stringify({ from: Date.now() - 60_000, to: Date.now() + 1_000, types: ['refused'] }),
  });
  const refused = (await res.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { userId?: string; playgroundId?: string; data: { reason: string } });
  assert.ok(
    refused.some(
      (e) =>
        e.userId === c.userId && e.playgroundId === 'expo-hall' && e.data.reason === 'MATCH_PLAYGROUND_FULL',
    ),
    JSON.stringify(refused),
  );
  assert.ok(refused.some((e) => e.playgroundId === 'vip-room' && e.data.reason === 'MATCH_INVITE_INVALID'));
});

test('a resuming user enters a full playground with a ticket carrying the resume token', async () => {
  const lb = await balancer();
  await server(lb, 'ds-small', { capacity: 1, playgrounds: [{ playgroundId: 'resume-room', players: 1 }] });
  const user = await guest();
  const full = await joinNamed(lb, { sessionId: user.sessionId, playgroundId: 'resume-room' });
  assert.equal(full.status, 503);
  assert.equal(full.body.error.code, 4001);

  const token = resumeToken(user.userId, 'resume-room');
  const resumed = await joinNamed(lb, {
    sessionId: user.sessionId,
    playgroundId: 'resume-room',
    resumeToken: token,
  });
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body.error));
  const { payload } = await jwtVerify(
    resumed.body.data?.ticket as string,
    await importJWK(lb.balancer.signer.publicJwk, 'EdDSA'),
    { issuer: TICKET_ISSUER, audience: 'ds-small' },
  );
  assert.equal(payload.rt, token);
  assert.equal(payload.sub, user.userId);
  assert.equal(payload.pg, 'resume-room');
});

test('a resume token that is forged, expired, or for another user or playground → 400 LB_RESUME_INVALID', async () => {
  const lb = await balancer();
  await server(lb, 'ds-resume', { capacity: 10 });
  const user = await guest();
  const other = await guest();
  for (const [what, token] of [
    ['another user', resumeToken(other.userId, 'hall')],
    ['another playground', resumeToken(user.userId, 'lobby')],
    ['expired', resumeToken(user.userId, 'hall', Date.now() - 1)],
    ['another secret', resumeToken(user.userId, 'hall', Date.now() + 60_000, 'some-other-cluster-secret')],
    ['not a token', 'garbage'],
  ] as const) {
    const res = await joinNamed(lb, { sessionId: user.sessionId, playgroundId: 'hall', resumeToken: token });
    assert.equal(res.status, 400, what);
    assert.equal(res.body.error.code, 4100, what);
  }
  const long = await joinNamed(lb, {
    sessionId: user.sessionId,
    playgroundId: 'hall',
    resumeToken: 'x'.repeat(1025),
  });
  assert.equal(long.body.error.code, 1000);
  const good = await joinNamed(lb, {
    sessionId: user.sessionId,
    playgroundId: 'hall',
    resumeToken: resumeToken(user.userId, 'hall'),
  });
  assert.equal(good.status, 200);
});

test('a dead server’s playgrounds are placed again on the next join, its seats released', async () => {
  const lb = await balancer();
  const doomed = await server(lb, 'ds-doomed', {
    capacity: 100,
    playgrounds: [{ playgroundId: 'orphan', players: 3 }],
  });
  await server(lb, 'ds-survivor', { capacity: 10 });
  const user = await guest();
  // A pending seat on the server that will die.
  const pending = await lb.balancer.join.grant(
    {
      id: user.userId,
      firstName: 'G',
      lastName: '',
      privacyMode: 0,
      avatar: '',
      companyName: '',
      companyTitle: '',
    },
    'orphan',
  );
  assert.equal(pending.serverId, 'ds-doomed');
  doomed.ws.terminate();
  await waitFor(async () => (await lb.balancer.store.get('ds-doomed')) === undefined, 3_000, 'death');
  assert.equal(await lb.balancer.store.homeOf('orphan'), undefined);

  const again = await joinNamed(lb, { sessionId: user.sessionId, playgroundId: 'orphan' });
  assert.equal(again.status, 200);
  assert.equal(again.body.data?.serverId, 'ds-survivor');
  assert.equal(await lb.balancer.store.homeOf('orphan'), 'ds-survivor');
  const metrics = await (await fetch(`${lb.url}/metrics`)).text();
  assert.match(metrics, /^plexus_lb_servers_dead_total\{[^}]*\} 1$/m);
  assert.match(metrics, /^plexus_lb_playgrounds_replaced_total\{[^}]*\} 1$/m);
  // Its unredeemed seat went with it: back again, it starts with none pending, and the old ticket
  // no longer counts.
  await server(lb, 'ds-doomed', { capacity: 100 });
  assert.equal((await lb.balancer.store.get('ds-doomed'))?.pending, 0);
  const jti = JSON.parse(Buffer.from(pending.ticket.split('.')[1] as string, 'base64url').toString()).jti;
  assert.equal(await lb.balancer.store.redeem('ds-doomed', jti, 'orphan'), false);
});

test('a login forwarded by the balancer spares the next join its authCheck; other sessions are still checked', async () => {
  const lb = await balancer();
  await server(lb, 'ds-login', { capacity: 50 });
  const authChecks = async () => {
    const text = await (await fetch(`${lb.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('plexus_lb_auth_check_duration_seconds_count'));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const res = await fetch(`${lb.url}${HttpPaths.rpcPrefix}auth.guest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ firstName: 'Proxied', lastName: 'Guest' }),
  });
  const login = (await res.json()) as Envelope<{ sessionId: string; user: { id: string } }>;
  assert.equal(res.status, 200);
  const viaProxy = await joinNamed(lb, { sessionId: login.data?.sessionId, playgroundId: 'login-room' });
  assert.equal(viaProxy.status, 200, JSON.stringify(viaProxy.body.error));
  const { payload } = await jwtVerify(
    viaProxy.body.data?.ticket as string,
    await importJWK(lb.balancer.signer.publicJwk, 'EdDSA'),
    { issuer: TICKET_ISSUER, audience: 'ds-login' },
  );
  assert.equal(payload.sub, login.data?.user.id);
  assert.equal((payload.prof as { lastName: string }).lastName, 'Guest');
  assert.equal(await authChecks(), 0);

  // A session the balancer did not see being created is checked with the backend, as before.
  const direct = await guest();
  assert.equal(
    (await joinNamed(lb, { sessionId: direct.sessionId, playgroundId: 'login-room' })).status,
    200,
  );
  assert.equal(await authChecks(), 1);
  // A made-up session is refused, not cached.
  assert.equal((await joinNamed(lb, { sessionId: 'not-a-session', playgroundId: 'login-room' })).status, 401);
});

test('with each fresh ticket the server is sent the user’s saved record in that playground', async () => {
  const lb = await balancer();
  const ds = await server(lb, 'ds-record', { capacity: 50 });
  const user = await guest();
  const recordSentWith = async (grant: EndpointGrant | null) => {
    const key = await importJWK(lb.balancer.signer.publicJwk, 'EdDSA');
    const { jti } = (await jwtVerify(grant?.ticket as string, key)).payload;
    const isRecord = (m: unknown) => (m as { type: string; jti?: string }).type === 'playerRecord';
    const message = await ds.nextMatching((m) => isRecord(m) && (m as { jti: string }).jti === jti);
    return message as { userId: string; playgroundId: string; record: { position: unknown } | null };
  };
  const first = await joinNamed(lb, { sessionId: user.sessionId, playgroundId: 'record-room' });
  const none = await recordSentWith(first.body.data);
  assert.deepEqual(
    { userId: none.userId, playgroundId: none.playgroundId, record: none.record },
    { userId: user.userId, playgroundId: 'record-room', record: null },
  );
  await backendCall(
    `${HttpPaths.partnerRpcPrefix}players.save`,
    {
      serverId: 'ds-record',
      playgroundId: 'record-room',
      players: [{ userId: user.userId, position: { x: 4, y: 0, z: 1 } }],
    },
    DEV_SECRETS.partnerKey,
  );
  const second = await joinNamed(lb, { sessionId: user.sessionId, playgroundId: 'record-room' });
  assert.deepEqual((await recordSentWith(second.body.data)).record?.position, { x: 4, y: 0, z: 1 });
});
