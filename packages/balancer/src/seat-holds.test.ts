import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadBackendConfig, startBackend } from '@plexus/backend';
import { ErrorCodes, HttpPaths } from '@plexus/protocol';
import { type RedisServer, startRedis } from '@plexus/testkit';
import type { BalancerConfigInput } from './config.ts';
import { type BalancerHandle, startBalancer } from './start.ts';
import { type ControlClient, registeredClient, silentLogger, testConfig } from './test-support.ts';

// Issue 10 item 1: one guest must not be able to close the cluster by hoarding seats with tickets.
// The bounds live in the cluster store, so they are checked against both: in memory and on a real
// redis-server. Everything goes through the balancer's REST API, with a real backend behind it.
const dataDir = mkdtempSync(join(tmpdir(), 'plexus-lb-holds-'));
let backend: Awaited<ReturnType<typeof startBackend>>;
let redis: RedisServer;
const balancers: BalancerHandle[] = [];
const clients: ControlClient[] = [];

before(async () => {
  backend = await startBackend(loadBackendConfig({}, { port: 0, dataDir }), { logger: silentLogger() });
  redis = await startRedis();
});

after(async () => {
  for (const c of clients) await c.close();
  for (const lb of balancers) await lb.close();
  await redis?.stop();
  await backend?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function balancerWith(flags: Partial<BalancerConfigInput>, capacity: number) {
  const lb = await startBalancer(testConfig({ backendUrl: backend.url, ...flags }), {
    logger: silentLogger(),
    events: false,
  });
  balancers.push(lb);
  const serverId = `ds-${balancers.length}`;
  clients.push(await registeredClient(lb.url, serverId, { capacity }));
  return { lb, serverId };
}

async function guest(name: string): Promise<string> {
  const res = await fetch(`${backend.url}${HttpPaths.rpcPrefix}auth.guest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ firstName: name }),
  });
  return ((await res.json()) as { data: { sessionId: string } }).data.sessionId;
}

async function ticket(lb: BalancerHandle, sessionId: string, playgroundId: string) {
  const res = await fetch(`${lb.url}${HttpPaths.getEndpointPlaygroundId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sessionId, playgroundId }),
  });
  const body = (await res.json()) as { error: { code: number } };
  return { status: res.status, code: body.error.code };
}

async function pending(lb: BalancerHandle, serverId: string): Promise<number> {
  const res = await fetch(`${lb.url}/lb/api/v0/servers`);
  const body = (await res.json()) as { data: { servers: { serverId: string; pending: number }[] } };
  return body.data.servers.find((s) => s.serverId === serverId)?.pending ?? -1;
}

for (const mode of ['memory', 'redis'] as const) {
  describe(`seat holds and ticket rates (${mode} store)`, () => {
    const redisFlags = () =>
      mode === 'redis' ? { redisUrl: redis.url, lbId: `lb-holds-${balancers.length}` } : {};

    test('a user holds one seat per playground and at most 3 overall; a burst of theirs never refuses another user', async () => {
      // Room for 5: before the fix one user's tickets filled it and everyone else got 503.
      // A session refills so slowly (0.01/s) that the burst below cannot depend on timing.
      const { lb, serverId } = await balancerWith({ ...redisFlags(), joinRatePerSessionPerSec: 0.01 }, 5);
      const hoarder = await guest('Hoarder');
      for (let i = 0; i < 5; i++) assert.equal((await ticket(lb, hoarder, 'hoard')).status, 200);
      assert.equal(await pending(lb, serverId), 1, 'a new ticket replaces the old reservation');

      assert.equal((await ticket(lb, hoarder, 'other-1')).status, 200);
      assert.equal((await ticket(lb, hoarder, 'other-2')).status, 200);
      const fourth = await ticket(lb, hoarder, 'other-3');
      assert.deepEqual(fourth, { status: 429, code: ErrorCodes.LB_TOO_MANY_HELD_SEATS.code });
      assert.equal(await pending(lb, serverId), 3);

      // A burst: the session's bucket (10) is nearly spent, so almost all are 429 — and none of
      // them costs anyone else anything.
      const burst = await Promise.all(Array.from({ length: 40 }, () => ticket(lb, hoarder, 'hoard')));
      const limited = burst.filter((r) => r.status === 429 && r.code === ErrorCodes.COMMON_RATE_LIMITED.code);
      assert.ok(limited.length >= 38, `only ${limited.length} of 40 were rate-limited`);
      assert.ok(burst.every((r) => r.status === 200 || r.status === 429));

      const other = await guest('Other');
      assert.equal((await ticket(lb, other, 'hoard')).status, 200, 'another user still gets a seat');
      assert.equal(await pending(lb, serverId), 4);
    });

    test('ticket requests are rate-limited per address with 429 and the envelope', async () => {
      const { lb } = await balancerWith(
        { ...redisFlags(), joinBurstPerAddress: 4, joinRatePerAddressPerSec: 0.01 },
        50,
      );
      const sessions = await Promise.all([1, 2, 3, 4, 5].map((i) => guest(`Addr${i}`)));
      const results = [];
      for (const [i, s] of sessions.entries()) results.push(await ticket(lb, s, `addr-${i}`));
      assert.deepEqual(
        results.map((r) => r.status),
        [200, 200, 200, 200, 429],
      );
      assert.equal(results[4]?.code, ErrorCodes.COMMON_RATE_LIMITED.code);
    });
  });
}
