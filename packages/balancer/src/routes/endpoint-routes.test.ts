import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AppError } from '@plexus/kit';
import { type EndpointGrant, type Envelope, TICKET_ISSUER, type UserSimple } from '@plexus/protocol';
import { importJWK, jwtVerify } from 'jose';
import { type BalancerApp, createBalancerApp } from '../app.ts';
import type { BackendClient } from '../backend-client.ts';
import { closedPort, silentLogger, testConfig } from '../test-support.ts';

const apps: BalancerApp[] = [];
after(async () => {
  for (const b of apps) await b.app.close();
});

/** A balancer whose backend is an in-process stand-in (the real backend runs in integration tests). */
async function withBackend(backend: Partial<BackendClient>, options: { now?: () => number } = {}) {
  const full: BackendClient = {
    getUserBySessionId: async () => {
      throw new AppError('AUTH_INVALID_SESSION');
    },
    getUsersByIds: async () => [],
    findPlayground: async () => 'lobby',
    joinPlayground: async (_userId, playgroundId) => playgroundId,
    getPlayerRecord: async () => null,
    partnerRpc: async () => ({ ok: true, data: { accepted: 0 } }),
    forwardRpc: async () => ({ status: 200, body: '{}' }),
    ...backend,
  };
  const balancer = await createBalancerApp({
    config: testConfig(),
    logger: silentLogger(),
    backend: full,
    events: false,
    ...(options.now ? { now: options.now } : {}),
  });
  apps.push(balancer);
  return balancer;
}

async function withClosedBackend() {
  const port = await closedPort();
  const balancer = await createBalancerApp({
    config: testConfig({ backendUrl: `http://127.0.0.1:${port}` }),
    logger: silentLogger(),
    events: false,
  });
  apps.push(balancer);
  return balancer;
}

function userFor(sessionId: string): UserSimple {
  return {
    id: `user-${sessionId}`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    privacyMode: 0,
    avatar: '',
    companyName: 'Engines',
    companyTitle: '',
  };
}

function identity(serverId: string, capacity: number) {
  return {
    serverId,
    endpoint: `ws://127.0.0.1:9100/${serverId}`,
    capacity,
    version: '0.1.0',
    protocolVersion: 1,
  };
}

async function addServer(b: BalancerApp, serverId: string, capacity: number, players = 0) {
  await b.store.register(identity(serverId, capacity), []);
  if (players > 0)
    await b.store.report(identity(serverId, capacity), { players, playgrounds: [], cpu: 0, tickMs: 0 });
}

function post(b: BalancerApp, url: string, payload: unknown, headers: Record<string, string> = {}) {
  return b.app.inject({ method: 'POST', url, payload: payload as object, headers });
}

test('missing session → 401 LB_SESSION_REQUIRED on both endpoints', async () => {
  const b = await withClosedBackend();
  for (const [url, body] of [
    ['/lb/api/v0/getEndpoint', {}],
    ['/lb/api/v0/getEndpointPlaygroundId', { playgroundId: 'hall' }],
  ] as const) {
    const res = await post(b, url, body);
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json().error, { status: true, code: 4003, message: 'A sessionId is required' });
  }
  const malformedHeader = await post(b, '/lb/api/v0/getEndpoint', {}, { authorization: 'Basic abc' });
  assert.equal(malformedHeader.json().error.code, 4003);
});

test('bad playgroundId, bad criteria and wrong types → 400 COMMON_BAD_REQUEST', async () => {
  const b = await withClosedBackend();
  for (const body of [
    { sessionId: 's', playgroundId: 'has space' },
    { sessionId: 's', playgroundId: '' },
    { sessionId: 's', playgroundId: 'x'.repeat(65) },
    { sessionId: 's' },
    { sessionId: 42, playgroundId: 'hall' },
  ]) {
    const res = await post(b, '/lb/api/v0/getEndpointPlaygroundId', body);
    assert.equal(res.statusCode, 400, JSON.stringify(body));
    assert.equal(res.json().error.code, 1000);
  }
  for (const criteria of ['fast', [1, 2], { blob: 'x'.repeat(2100) }]) {
    const res = await post(b, '/lb/api/v0/getEndpoint', { sessionId: 's', criteria });
    assert.equal(res.statusCode, 400, JSON.stringify(criteria).slice(0, 40));
    assert.equal(res.json().error.code, 1000);
  }
});

test('malformed JSON → 400 COMMON_MALFORMED_JSON; oversize body → 413; text body → 415; unknown route → 404', async () => {
  const b = await withClosedBackend();
  const malformed = await b.app.inject({
    method: 'POST',
    url: '/lb/api/v0/getEndpoint',
    headers: { 'content-type': 'application/json' },
    payload: '{"sessionId":',
  });
  assert.equal(malformed.statusCode, 400);
  assert.equal(malformed.json().error.code, 1001);
  const big = await post(b, '/lb/api/v0/getEndpoint', { sessionId: 's', pad: 'x'.repeat(17 * 1024) });
  assert.equal(big.statusCode, 413);
  assert.equal(big.json().error.code, 1003);
  const textBody = await b.app.inject({
    method: 'POST',
    url: '/lb/api/v0/getEndpoint',
    headers: { 'content-type': 'text/plain' },
    payload: 'hello',
  });
  assert.equal(textBody.statusCode, 415);
  assert.equal(textBody.json().error.code, 1006);
  const unknown = await b.app.inject({ method: 'GET', url: '/lb/api/v0/nope' });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 1002);
});

test('backend unreachable → 503 LB_BACKEND_UNAVAILABLE (session in body or in the header)', async () => {
  const b = await withClosedBackend();
  const inBody = await post(b, '/lb/api/v0/getEndpointPlaygroundId', {
    sessionId: 's',
    playgroundId: 'hall',
  });
  assert.equal(inBody.statusCode, 503);
  assert.equal(inBody.json().error.code, 4002);
  const inHeader = await post(b, '/lb/api/v0/getEndpoint', {}, { authorization: 'Bearer some-session' });
  assert.equal(inHeader.statusCode, 503);
  assert.equal(inHeader.json().error.code, 4002);
});

test('backend proxy: unreachable backend → 503; a method that is not <service>.<method> → 404', async () => {
  const b = await withClosedBackend();
  const res = await post(b, '/api/v0/rpc/auth.guest', { firstName: 'Ada' });
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().error.code, 4002);
  const sneaky = await post(b, '/api/v0/rpc/..%2FpartnerRpc%2FauthCheck.getUserBySessionId', {
    sessionId: 'x',
  });
  assert.equal(sneaky.statusCode, 404);
  const partner = await post(b, '/api/v0/partnerRpc/authCheck.getUserBySessionId', { sessionId: 'x' });
  assert.equal(partner.statusCode, 404);
});

test('backend proxy forwards body, Authorization and the backend status verbatim', async () => {
  const seen: unknown[] = [];
  const b = await withBackend({
    forwardRpc: async (req) => {
      seen.push(req);
      return { status: 401, body: '{"data":null,"error":{"status":true,"code":2001,"message":"nope"}}' };
    },
  });
  const res = await b.app.inject({
    method: 'POST',
    url: '/api/v0/rpc/profile.get',
    headers: { 'content-type': 'application/json', authorization: 'Bearer abc' },
    payload: '{ "x" : 1 }',
  });
  assert.equal(res.statusCode, 401);
  assert.equal(res.body, '{"data":null,"error":{"status":true,"code":2001,"message":"nope"}}');
  assert.deepEqual(seen, [
    { method: 'profile.get', body: '{ "x" : 1 }', authorization: 'Bearer abc', forwardedFor: '127.0.0.1' },
  ]);
});

test('a backend 401 passes through as AUTH_INVALID_SESSION', async () => {
  const b = await withBackend({});
  await addServer(b, 'ds-1', 10);
  const res = await post(b, '/lb/api/v0/getEndpointPlaygroundId', {
    sessionId: 'gone',
    playgroundId: 'hall',
  });
  assert.equal(res.statusCode, 401);
  assert.equal(res.json().error.code, 2001);
});

test('a grant has exactly the EndpointGrant shape and a ticket for the chosen server', async () => {
  const b = await withBackend({ getUserBySessionId: async (s) => userFor(s) });
  await addServer(b, 'ds-1', 10, 5);
  await addServer(b, 'ds-2', 10, 1);
  const res = await post(
    b,
    '/lb/api/v0/getEndpointPlaygroundId',
    { playgroundId: 'hall' },
    {
      authorization: 'Bearer s1',
    },
  );
  assert.equal(res.statusCode, 200);
  const body = res.json() as Envelope<EndpointGrant>;
  assert.deepEqual(body.error, { status: false, code: 0, message: '' });
  const grant = body.data as EndpointGrant;
  assert.deepEqual(Object.keys(grant).sort(), [
    'endpoint',
    'expiresAt',
    'playgroundId',
    'serverId',
    'ticket',
  ]);
  assert.equal(grant.serverId, 'ds-2');
  assert.equal(grant.endpoint, 'ws://127.0.0.1:9100/ds-2');
  assert.equal(grant.playgroundId, 'hall');
  const { payload } = await jwtVerify(grant.ticket, await importJWK(b.signer.publicJwk, 'EdDSA'), {
    issuer: TICKET_ISSUER,
    audience: 'ds-2',
  });
  assert.equal(payload.sub, 'user-s1');
  assert.equal(payload.pg, 'hall');
  assert.equal(new Date(grant.expiresAt).getTime(), (payload.exp as number) * 1000);
  assert.equal(await b.store.homeOf('hall'), 'ds-2');

  // Sticky: the next user of `hall` lands on ds-2 even after ds-1 frees up.
  await b.store.report(identity('ds-1', 10), { players: 0, playgrounds: [], cpu: 0, tickMs: 0 });
  const second = await post(b, '/lb/api/v0/getEndpointPlaygroundId', {
    sessionId: 's2',
    playgroundId: 'hall',
  });
  assert.equal(second.json().data.serverId, 'ds-2');
  // A new playground goes to the emptier server.
  const other = await post(b, '/lb/api/v0/getEndpointPlaygroundId', {
    sessionId: 's2',
    playgroundId: 'other',
  });
  assert.equal(other.json().data.serverId, 'ds-1');
});

test('matchmaking passes userId, criteria and partyId to the backend and places its playground', async () => {
  const calls: unknown[] = [];
  const b = await withBackend({
    getUserBySessionId: async (s) => userFor(s),
    findPlayground: async (userId, criteria, partyId) => {
      calls.push({ userId, criteria, partyId });
      return 'public-1';
    },
  });
  await addServer(b, 'ds-1', 10);
  const res = await post(b, '/lb/api/v0/getEndpoint', {
    sessionId: 's1',
    criteria: { playgroundType: 'expo' },
    partyId: 'party-7',
  });
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().data.playgroundId, 'public-1');
  assert.deepEqual(calls, [{ userId: 'user-s1', criteria: { playgroundType: 'expo' }, partyId: 'party-7' }]);
  const tooLong = await post(b, '/lb/api/v0/getEndpoint', { sessionId: 's1', partyId: 'p'.repeat(65) });
  assert.equal(tooLong.statusCode, 400);
});

test('no registered server → 503 LB_NO_CAPACITY', async () => {
  const b = await withBackend({ getUserBySessionId: async (s) => userFor(s) });
  const res = await post(b, '/lb/api/v0/getEndpoint', { sessionId: 's1' });
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().error.code, 4001);
});

test('a burst of 5 joins on a 3-seat server → 3 grants and 2 × 503; seats free up when tickets expire', async () => {
  let t = Date.now();
  let authChecks = 0;
  const b = await withBackend(
    {
      getUserBySessionId: async (s) => {
        authChecks++;
        return userFor(s);
      },
    },
    { now: () => t },
  );
  await addServer(b, 'ds-1', 3);
  const responses = await Promise.all(
    [1, 2, 3, 4, 5].map((i) => post(b, '/lb/api/v0/getEndpoint', { sessionId: `s${i}` })),
  );
  const codes = responses.map((r) => r.statusCode).sort();
  assert.deepEqual(codes, [200, 200, 200, 503, 503]);
  for (const r of responses.filter((r) => r.statusCode === 503)) assert.equal(r.json().error.code, 4001);
  assert.equal((await b.store.get('ds-1'))?.pending, 3);
  assert.equal(authChecks, 5);

  const servers = await b.app.inject({ method: 'GET', url: '/lb/api/v0/servers' });
  assert.equal(servers.json().data.servers[0].pending, 3);

  // A cached session skips the backend within the TTL.
  await post(b, '/lb/api/v0/getEndpoint', { sessionId: 's1' });
  assert.equal(authChecks, 5);

  t += 31_000;
  const later = await post(b, '/lb/api/v0/getEndpoint', { sessionId: 's1' });
  assert.equal(later.statusCode, 200);
  assert.equal(authChecks, 6);
});
