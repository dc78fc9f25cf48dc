import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type RedisServer, startRedis } from '@plexus/testkit';
import type { ClusterStore, ServerIdentity } from './cluster-store.ts';
import { MemoryClusterStore } from './memory-store.ts';
import { RedisClusterStore } from './redis-store.ts';
import { silentLogger } from './test-support.ts';

// Placement once: both stores hand out a snapshot with a revision and commit a decision only on
// that revision (docs/api.md, placement). Checked in memory and on a real redis-server.

let redis: RedisServer;
const opened: ClusterStore[] = [];
let prefixes = 0;
const NOW = 1_900_000_000_000;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const store of opened) await store.close();
  await redis.stop();
});

async function makeStore(kind: 'memory' | 'redis'): Promise<ClusterStore> {
  const now = () => NOW;
  const store =
    kind === 'memory'
      ? new MemoryClusterStore({ lbId: 'lb-a', now })
      : await RedisClusterStore.connect({
          url: redis.url,
          lbId: 'lb-a',
          ttlMs: 5_000,
          logger: silentLogger(),
          now,
          prefix: `sp${++prefixes}:`,
        });
  opened.push(store);
  return store;
}

const server: ServerIdentity = {
  serverId: 'ds-1',
  endpoint: 'ws://127.0.0.1:9/ds-1',
  capacity: 1,
  version: '1',
  protocolVersion: 1,
};

for (const kind of ['memory', 'redis'] as const) {
  describe(`snapshot and commit (${kind})`, () => {
    test("a commit on the snapshot's revisions records the decision; on stale ones, nothing", async () => {
      const store = await makeStore(kind);
      await store.register(server, []);
      const snapshot = await store.snapshot('hall', 'u1');
      assert.deepEqual(
        snapshot.servers.map(({ revision: _, ...s }) => s),
        [{ serverId: 'ds-1', capacity: 1, players: 0, pending: 0, draining: false }],
      );
      assert.equal(snapshot.home, undefined);
      assert.equal(snapshot.held, 0);
      const decision = {
        serverRevision: snapshot.servers[0]?.revision ?? -1,
        holdRevision: snapshot.holdRevision,
        home: snapshot.home,
        playgroundId: 'hall',
        serverId: 'ds-1',
        sticky: false,
        jtis: ['j1'],
        expiresAtMs: NOW + 30_000,
        holder: 'u1',
      };

      // A load report lands between snapshot and commit: the decision may rest on old numbers.
      await store.report(server, { players: 1, playgrounds: [], cpu: 0, tickMs: 0 });
      assert.deepEqual(await store.commit(decision), { ok: false });
      assert.equal((await store.get('ds-1'))?.pending, 0);
      assert.equal(await store.homeOf('hall'), undefined);

      const fresh = await store.snapshot('hall', 'u1');
      const freshRevision = fresh.servers[0]?.revision ?? -1;
      assert.notEqual(freshRevision, decision.serverRevision);
      const committed = await store.commit({ ...decision, serverRevision: freshRevision });
      assert.deepEqual(committed, { ok: true, endpoint: server.endpoint, replaced: false });
      assert.equal((await store.get('ds-1'))?.pending, 1);
      assert.equal(await store.homeOf('hall'), 'ds-1');
      // The same commit again is stale: its own write moved the revision on.
      assert.deepEqual(await store.commit({ ...decision, serverRevision: freshRevision, jtis: ['j2'] }), {
        ok: false,
      });
    });

    test("the holder's seat in the playground is released by the snapshot; others are counted", async () => {
      const store = await makeStore(kind);
      await store.register({ ...server, capacity: 10 }, []);
      const connected = () => true;
      const hold = { userId: 'u1', max: 3 };
      for (const playgroundId of ['a', 'b', 'a']) {
        const placed = await store.place({
          playgroundId,
          jtis: [`j-${playgroundId}-${Math.random()}`],
          expiresAtMs: NOW + 30_000,
          hold,
          connected,
        });
        assert.equal(placed.ok, true);
      }
      assert.equal((await store.get('ds-1'))?.pending, 2);
      const snapshot = await store.snapshot('a', 'u1');
      assert.equal(snapshot.held, 1, "u1's seat in b");
      assert.equal(snapshot.servers[0]?.pending, 1, "u1's seat in a is released");
    });
  });
}
