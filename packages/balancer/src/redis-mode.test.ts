import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadBackendConfig, startBackend } from '@plexus/backend';
import { DEV_SECRETS } from '@plexus/kit';
import { type EndpointGrant, type Envelope, HttpPaths } from '@plexus/protocol';
import { type RedisServer, startRedis } from '@plexus/testkit';
import { type BalancerHandle, startBalancer } from './start.ts';
import { type ControlClient, registeredClient, silentLogger, testConfig, waitFor } from './test-support.ts';

// Two balancers in this process sharing a real redis-server, a real backend behind them.
const dataDir = mkdtempSync(join(tmpdir(), 'plexus-lb-redis-'));
let backend: Awaited<ReturnType<typeof startBackend>>;
let redis: RedisServer;
let lbA: BalancerHandle;
let lbB: BalancerHandle;
const clients: ControlClient[] = [];

before(async () => {
  backend = await startBackend(loadBackendConfig({}, { port: 0, dataDir }), { logger: silentLogger() });
  redis = await startRedis();
  const config = (lbId: string) =>
    testConfig({ backendUrl: backend.url, redisUrl: redis.url, lbId, heartbeatIntervalMs: 200 });
  lbA = await startBalancer(config('lb-a'), { logger: silentLogger(), events: false });
  lbB = await startBalancer(config('lb-b'), { logger: silentLogger(), events: false });
});

after(async () => {
  for (const c of clients) await c.close();
  await lbA?.close();
  await lbB?.close();
  await redis?.stop();
  await backend?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function server(lb: BalancerHandle, serverId: string, overrides: Record<string, unknown> = {}) {
  const client = await registeredClient(lb.url, serverId, overrides);
  clients.push(client);
  return client;
}

const sessions = new Map<string, string>();
async function session(name = 'Redis'): Promise<string> {
  const known = sessions.get(name);
  if (known) return known;
  const res = await fetch(`${backend.url}${HttpPaths.rpcPrefix}auth.guest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ firstName: name }),
  });
  const sessionId = ((await res.json()) as { data: { sessionId: string } }).data.sessionId;
  sessions.set(name, sessionId);
  return sessionId;
}

/** A join as the user `name` (one user's second ticket for a playground replaces their first seat). */
async function joinVia(lb: BalancerHandle, playgroundId: string, name?: string) {
  const res = await fetch(`${lb.url}${HttpPaths.getEndpointPlaygroundId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId: await session(name), playgroundId }),
  });
  return { status: res.status, body: (await res.json()) as Envelope<EndpointGrant> };
}

async function serversOf(lb: BalancerHandle) {
  const res = await fetch(`${lb.url}/lb/api/v0/servers`);
  return (
    (await res.json()) as {
      data: { servers: { serverId: string; balancers: string[]; draining: boolean }[] };
    }
  ).data.servers;
}

test('both balancers see one registry; a server held by one is reached from the other', async () => {
  const onlyA = await server(lbA, 'ds-only-a', { playgrounds: [{ playgroundId: 'a-room', players: 1 }] });
  const viaB = (await serversOf(lbB)).find((s) => s.serverId === 'ds-only-a');
  assert.deepEqual(viaB?.balancers, ['lb-a']);
  // lb-b cannot sign for a server that never received its key: the SDK tries its next balancer.
  const refused = await joinVia(lbB, 'a-room');
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error.code, 4103);
  assert.equal((await joinVia(lbA, 'a-room')).body.data?.serverId, 'ds-only-a');

  // The operator drains it through lb-b: the command travels over Redis pub/sub to lb-a.
  const res = await fetch(`${lbB.url}${HttpPaths.adminServersPrefix}ds-only-a/drain`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_SECRETS.operatorKey}` },
  });
  assert.equal(res.status, 202);
  assert.deepEqual(await onlyA.nextOfType('command', 5_000), { type: 'command', command: 'drain' });
  assert.equal((await serversOf(lbA)).find((s) => s.serverId === 'ds-only-a')?.draining, true);
});

test('a server connected to both balancers is counted once and placed from either', async () => {
  await server(lbA, 'ds-both', { capacity: 100 });
  await server(lbB, 'ds-both', { capacity: 100 });
  const entries = (await serversOf(lbA)).filter((s) => s.serverId === 'ds-both');
  assert.equal(entries.length, 1);
  assert.deepEqual(entries[0]?.balancers, ['lb-a', 'lb-b']);
  const first = await joinVia(lbB, 'shared-room');
  assert.equal(first.body.data?.serverId, 'ds-both');
  const second = await joinVia(lbA, 'shared-room', 'Redis2');
  assert.equal(second.body.data?.serverId, 'ds-both');
  assert.equal((await lbA.balancer.store.get('ds-both'))?.pending, 2);
});

test('an epoch conflict found by one balancer releases the loser held by the other', async () => {
  const stale = await server(lbA, 'ds-stale', {
    playgrounds: [{ playgroundId: 'contested', players: 1, epoch: 2 }],
  });
  await server(lbB, 'ds-newer', { playgrounds: [{ playgroundId: 'contested', players: 1, epoch: 6 }] });
  assert.deepEqual(await stale.nextOfType('release', 5_000), { type: 'release', playgroundId: 'contested' });
  assert.equal(await lbA.balancer.store.homeOf('contested'), 'ds-newer');
});

test('Redis down: joins fail with 503 LB_STATE_UNAVAILABLE, nothing crashes, joins work again once it is back', async () => {
  const client = await server(lbA, 'ds-outage', { capacity: 100 });
  await redis.stop();
  const during = await joinVia(lbA, 'outage-room');
  assert.equal(during.status, 503);
  assert.equal(during.body.error.code, 4102);
  assert.equal((await fetch(`${lbA.url}/healthz`)).status, 200);
  redis = await startRedis({ port: redis.port });
  // The restarted Redis is empty: the server's next load report registers it again.
  await waitFor(
    async () => {
      client.send({ type: 'load', players: 0, playgrounds: [], cpu: 0, tickMs: 0 });
      return (await joinVia(lbA, 'outage-room')).status === 200;
    },
    10_000,
    'joins after Redis is back',
  );
});
