import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@plexus/protocol';
import { PlexusClient } from './client.ts';
import { PlexusError } from './errors.ts';
import type { FetchFn } from './http/request.ts';

const user = {
  id: 'u1',
  firstName: 'Ada',
  lastName: '',
  privacyMode: 0,
  avatar: '',
  companyName: '',
  companyTitle: '',
};

interface Call {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that records calls and answers from a route table with envelopes. */
function fakeFetch(routes: Record<string, (body: Record<string, unknown>) => [number, unknown]>) {
  const calls: Call[] = [];
  const fetch: FetchFn = async (url, init) => {
    const body = JSON.parse(String(init.body)) as Record<string, unknown>;
    calls.push({ url, headers: init.headers as Record<string, string>, body });
    const route = routes[new URL(url).pathname];
    if (!route) return new Response('not found', { status: 404 });
    const [status, data] = route(body);
    return Response.json(data, { status });
  };
  return { fetch, calls };
}

const ok = (data: unknown): [number, unknown] => [
  200,
  { data, error: { status: false, code: 0, message: '' } },
];
const fail = (name: keyof typeof ErrorCodes, message?: string): [number, unknown] => {
  const spec = ErrorCodes[name];
  return [
    spec.status,
    { data: null, error: { status: true, code: spec.code, message: message ?? spec.message } },
  ];
};

test('loginAsGuest and updateProfile call the backend RPCs through the balancer URL with the bearer session', async () => {
  const { fetch, calls } = fakeFetch({
    '/api/v0/rpc/auth.guest': () => ok({ sessionId: 's-1', expiresAt: '2030-01-01T00:00:00Z', user }),
    '/api/v0/rpc/profile.update': (body) => ok({ user: { ...user, ...body } }),
  });
  const client = new PlexusClient({ balancerUrl: 'http://lb.test/', fetch });
  const me = await client.loginAsGuest({ firstName: 'Ada' });
  assert.equal(me.firstName, 'Ada');
  assert.equal(client.sessionId, 's-1');
  assert.equal(client.expiresAt, '2030-01-01T00:00:00Z');
  const updated = await client.updateProfile({ privacyMode: 1 });
  assert.equal(updated.privacyMode, 1);
  assert.equal(client.user?.privacyMode, 1);
  assert.deepEqual(
    calls.map((c) => [c.url, c.headers.authorization, c.body]),
    [
      ['http://lb.test/api/v0/rpc/auth.guest', undefined, { firstName: 'Ada' }],
      ['http://lb.test/api/v0/rpc/profile.update', 'Bearer s-1', { privacyMode: 1 }],
    ],
  );
});

test('an error envelope becomes a PlexusError with code, name and HTTP status', async () => {
  const { fetch } = fakeFetch({ '/api/v0/rpc/auth.login': () => fail('AUTH_INVALID_CREDENTIALS') });
  const client = new PlexusClient({ balancerUrl: 'http://lb.test', backendUrl: 'http://be.test', fetch });
  await assert.rejects(client.login('a@b.c', 'nope'), (err: unknown) => {
    assert.ok(err instanceof PlexusError);
    assert.equal(err.code, 2002);
    assert.equal(err.name, 'AUTH_INVALID_CREDENTIALS');
    assert.equal(err.status, 401);
    return true;
  });
  assert.equal(client.sessionId, undefined);
});

test('useSession validates the session with profile.get and keeps the old one when it is invalid', async () => {
  const { fetch, calls } = fakeFetch({
    '/api/v0/rpc/profile.get': () =>
      calls.at(-1)?.headers.authorization === 'Bearer good' ? ok({ user }) : fail('AUTH_INVALID_SESSION'),
  });
  const client = new PlexusClient({ balancerUrl: 'http://lb.test', fetch });
  await client.useSession('good');
  assert.equal(client.sessionId, 'good');
  assert.equal(client.user?.id, 'u1');
  await assert.rejects(client.useSession('bad'), { name: 'AUTH_INVALID_SESSION' });
  assert.equal(client.sessionId, 'good');
});

test('join asks the balancer for a named playground or matchmaking with the session id', async () => {
  const { fetch, calls } = fakeFetch({
    '/lb/api/v0/getEndpointPlaygroundId': () => fail('LB_NO_CAPACITY'),
    '/lb/api/v0/getEndpoint': () => fail('MATCH_NO_PLAYGROUND'),
  });
  const client = new PlexusClient({ balancerUrl: 'http://lb.test', fetch });
  await assert.rejects(client.join(), { name: 'AUTH_SESSION_REQUIRED' });
  client.sessionId = 's-9';
  await assert.rejects(client.join({ playgroundId: 'expo-hall' }), { name: 'LB_NO_CAPACITY', status: 503 });
  await assert.rejects(client.join({ criteria: { region: 'eu' } }), { name: 'MATCH_NO_PLAYGROUND' });
  await assert.rejects(client.join({ playgroundId: 'no spaces allowed' }), { name: 'COMMON_BAD_REQUEST' });
  assert.deepEqual(
    calls.map((c) => [c.url, c.body]),
    [
      ['http://lb.test/lb/api/v0/getEndpointPlaygroundId', { sessionId: 's-9', playgroundId: 'expo-hall' }],
      ['http://lb.test/lb/api/v0/getEndpoint', { sessionId: 's-9', criteria: { region: 'eu' } }],
    ],
  );
});

test('network failures, timeouts and non-envelope answers become clear PlexusErrors', async () => {
  const unreachable = new PlexusClient({
    balancerUrl: 'http://lb.test',
    fetch: async () => {
      throw new TypeError('fetch failed');
    },
  });
  await assert.rejects(unreachable.loginAsGuest({ firstName: 'A' }), (err: unknown) => {
    assert.ok(err instanceof PlexusError);
    assert.equal(err.name, 'CLIENT_NETWORK_ERROR');
    assert.match(err.message, /Could not reach http:\/\/lb\.test\/api\/v0\/rpc\/auth\.guest: fetch failed/);
    return true;
  });

  const slow = new PlexusClient({
    balancerUrl: 'http://lb.test',
    requestTimeoutMs: 20,
    fetch: (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      }),
  });
  await assert.rejects(slow.loginAsGuest({ firstName: 'A' }), { name: 'CLIENT_TIMEOUT' });

  const { fetch } = fakeFetch({});
  const html = new PlexusClient({ balancerUrl: 'http://lb.test', fetch });
  await assert.rejects(html.loginAsGuest({ firstName: 'A' }), { name: 'CLIENT_BAD_RESPONSE', status: 404 });
});

test('logout forgets the session even when the backend already dropped it', async () => {
  const { fetch } = fakeFetch({ '/api/v0/rpc/auth.logout': () => fail('AUTH_INVALID_SESSION') });
  const client = new PlexusClient({ balancerUrl: 'http://lb.test', fetch });
  client.sessionId = 's-1';
  await client.logout();
  assert.equal(client.sessionId, undefined);
  assert.equal(client.loggedIn, false);
});
