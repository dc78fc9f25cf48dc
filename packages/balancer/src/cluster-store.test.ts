import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type RedisServer, startRedis } from '@plexus/testkit';
import type { ClusterStore, PlaceRequest, ServerIdentity } from './cluster-store.ts';
import { MemoryClusterStore } from './memory-store.ts';
import { RedisClusterStore } from './redis-store.ts';
import { silentLogger } from './test-support.ts';

// The same behaviours, checked on both implementations: in memory and on a real redis-server.

let redis: RedisServer;
const opened: ClusterStore[] = [];
let prefixes = 0;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const store of opened) await store.close();
  await redis.stop();
});

interface Clock {
  now: () => number;
  advance(ms: number): void;
}

function clock(): Clock {
  let t = 1_900_000_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const TTL_MS = 5_000;

/** A store of the given kind; Redis stores created with the same `prefix` share their state. */
async function makeStore(
  kind: 'memory' | 'redis',
  c: Clock,
  lbId = 'lb-a',
  prefix?: string,
): Promise<ClusterStore> {
  const store =
    kind === 'memory'
      ? new MemoryClusterStore({ lbId, now: c.now })
      : await RedisClusterStore.connect({
          url: redis.url,
          lbId,
          ttlMs: TTL_MS,
          logger: silentLogger(),
          now: c.now,
          prefix: prefix ?? `t${++prefixes}:`,
        });
  opened.push(store);
  return store;
}

function identity(serverId: string, capacity = 10): ServerIdentity {
  return { serverId, endpoint: `ws://127.0.0.1:9/${serverId}`, capacity, version: '1', protocolVersion: 1 };
}

function request(c: Clock, playgroundId: string, more: Partial<PlaceRequest> = {}): PlaceRequest {
  return {
    playgroundId,
    jtis: [`jti-${playgroundId}-${Math.random().toString(36).slice(2)}`],
    expiresAtMs: c.now() + 30_000,
    connected: () => true,
    ...more,
  };
}

/** Moves the clock while this balancer keeps its servers alive (as its heartbeat timer does). */
async function age(store: ClusterStore, c: Clock, ms: number, servers: string[]): Promise<void> {
  for (let left = ms; left > 0; left -= TTL_MS / 2) {
    c.advance(Math.min(left, TTL_MS / 2));
    await store.refresh(servers);
  }
}

const load = (
  players: number,
  playgrounds: { playgroundId: string; players: number; epoch?: number }[] = [],
) => ({
  players,
  playgrounds,
  cpu: 0,
  tickMs: 0,
});

for (const kind of ['memory', 'redis'] as const) {
  describe(`${kind} store`, () => {
    test('register adopts the playgrounds a server hosts; list shows it with its figures', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      assert.deepEqual(
        await store.register(identity('a'), [{ playgroundId: 'hall', players: 2, epoch: 4 }]),
        [],
      );
      assert.equal(await store.homeOf('hall'), 'a');
      const [view] = await store.list();
      assert.equal(view?.serverId, 'a');
      assert.equal(view?.players, 2);
      assert.equal(view?.draining, false);
      assert.deepEqual(view?.playgrounds, [{ playgroundId: 'hall', players: 2, epoch: 4 }]);
      assert.deepEqual(view?.balancers, ['lb-a']);
      assert.equal(view?.registeredAtMs, c.now());
    });

    test('placement: most headroom for a new playground, sticky afterwards, seats counted until they expire', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      await store.register(identity('a', 10), []);
      await store.register(identity('b', 10), []);
      await store.report(identity('a', 10), load(5));
      const first = await store.place(request(c, 'p1'));
      assert.deepEqual(first, {
        ok: true,
        serverId: 'b',
        endpoint: 'ws://127.0.0.1:9/b',
        sticky: false,
        replaced: false,
      });
      assert.equal(await store.homeOf('p1'), 'b');
      const again = await store.place(request(c, 'p1'));
      assert.equal(again.ok && again.sticky, true);
      assert.equal((await store.get('b'))?.pending, 2);
      await age(store, c, 30_000, ['a', 'b']);
      assert.equal((await store.get('b'))?.pending, 0);
    });

    test('a full home refuses, except a resuming user; several seats at once for a relocation', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      await store.register(identity('a', 2), [{ playgroundId: 'p', players: 2 }]);
      await store.register(identity('b', 5), []);
      assert.deepEqual(await store.place(request(c, 'p')), { ok: false, reason: 'playground_full' });
      const resumed = await store.place(request(c, 'p', { resume: true }));
      assert.equal(resumed.ok && resumed.serverId, 'a');
      await store.setDraining('a');
      const moved = await store.place(request(c, 'p', { jtis: ['r1', 'r2', 'r3'], seats: 3, exclude: 'a' }));
      assert.equal(moved.ok && moved.serverId, 'b');
      assert.equal(await store.homeOf('p'), 'b');
      assert.equal((await store.get('b'))?.pending, 3);
      assert.deepEqual(
        await store.place(request(c, 'q', { jtis: ['x', 'y', 'z'], seats: 3, exclude: 'a' })),
        {
          ok: false,
          reason: 'no_capacity',
        },
      );
    });

    test('a report re-establishes mappings and drops stale ones unless a seat is pending', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      await store.register(identity('a'), [{ playgroundId: 'old', players: 1 }]);
      await store.place(request(c, 'waiting'));
      assert.equal(await store.homeOf('waiting'), 'a');
      await store.report(identity('a'), load(1, [{ playgroundId: 'reported', players: 1 }]));
      assert.equal(await store.homeOf('reported'), 'a');
      assert.equal(await store.homeOf('waiting'), 'a');
      assert.equal(await store.homeOf('old'), undefined);
      await age(store, c, 31_000, ['a']);
      await store.report(identity('a'), load(1, [{ playgroundId: 'reported', players: 1 }]));
      assert.equal(await store.homeOf('waiting'), undefined);
    });

    test('epoch conflicts: a strictly higher epoch wins, ties and placements keep the home, draining reporters are ignored', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      await store.register(identity('a'), [{ playgroundId: 'p', players: 1, epoch: 3 }]);
      assert.deepEqual(await store.register(identity('b'), [{ playgroundId: 'p', players: 1, epoch: 5 }]), [
        { playgroundId: 'p', serverId: 'a' },
      ]);
      assert.equal(await store.homeOf('p'), 'b');
      assert.deepEqual(
        await store.report(identity('a'), load(1, [{ playgroundId: 'p', players: 1, epoch: 5 }])),
        [{ playgroundId: 'p', serverId: 'a' }],
      );
      // A playground just placed (no epoch yet) stays with its new server.
      await store.register(identity('c', 100), []);
      await store.place(request(c, 'fresh'));
      assert.equal(await store.homeOf('fresh'), 'c');
      assert.deepEqual(
        await store.report(identity('a'), load(1, [{ playgroundId: 'fresh', players: 1, epoch: 9 }])),
        [{ playgroundId: 'fresh', serverId: 'a' }],
      );
      // A draining server neither wins nor is told to release.
      await store.setDraining('a');
      assert.deepEqual(
        await store.report(identity('a'), {
          ...load(1, [{ playgroundId: 'p', players: 1, epoch: 50 }]),
          draining: true,
        }),
        [],
      );
      assert.equal(await store.homeOf('p'), 'b');
      // The home's own higher epoch is recorded and then beats a lower one.
      await store.report(identity('b'), load(1, [{ playgroundId: 'p', players: 1, epoch: 7 }]));
      assert.deepEqual(
        await store.report(identity('c', 100), load(0, [{ playgroundId: 'p', players: 0, epoch: 6 }])),
        [{ playgroundId: 'p', serverId: 'c' }],
      );
    });

    test('a redeemed seat becomes a player once', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      await store.register(identity('a'), []);
      await store.place(request(c, 'p', { jtis: ['j1'] }));
      assert.equal(await store.redeem('a', 'j1', 'p'), true);
      assert.equal(await store.redeem('a', 'j1', 'p'), false);
      const view = await store.get('a');
      assert.equal(view?.players, 1);
      assert.equal(view?.pending, 0);
      await store.place(request(c, 'p', { jtis: ['j2'] }));
      await age(store, c, 30_000, ['a']);
      assert.equal(await store.redeem('a', 'j2', 'p'), false);
      await store.place(request(c, 'p', { jtis: ['j3'] }));
      await store.releaseSeats('a', 'p', ['j3']);
      assert.equal((await store.get('a'))?.pending, 0);
    });

    test('losing the only holder: the server is dead, its mappings dropped, the next placement re-homes them', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      await store.register(identity('a'), [{ playgroundId: 'p', players: 1 }]);
      await store.register(identity('b'), []);
      const outcome = await store.lose('a', 'missed 3 heartbeats');
      assert.deepEqual(outcome, { dead: true, dropped: ['p'] });
      assert.equal(await store.get('a'), undefined);
      assert.equal(await store.homeOf('p'), undefined);
      const [dead] = await store.deadServers();
      assert.deepEqual(dead, {
        serverId: 'a',
        endpoint: 'ws://127.0.0.1:9/a',
        diedAtMs: c.now(),
        reason: 'missed 3 heartbeats',
        playgrounds: 1,
      });
      const placed = await store.place(request(c, 'p'));
      assert.equal(placed.ok && placed.replaced, true);
      const sticky = await store.place(request(c, 'p'));
      assert.equal(sticky.ok && sticky.replaced, false);
      assert.deepEqual(await store.lose('a', 'again'), { dead: false, dropped: [] });
      // The server comes back with its playgrounds: re-adopted where nobody else holds them.
      await store.register(identity('a'), [
        { playgroundId: 'p', players: 1 },
        { playgroundId: 'q', players: 1 },
      ]);
      assert.equal(await store.homeOf('p'), 'b');
      assert.equal(await store.homeOf('q'), 'a');
    });

    test('draining: no new playgrounds, unknown servers refused', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      await store.register(identity('a', 100), []);
      await store.register(identity('b', 2), []);
      assert.equal(await store.setDraining('a'), true);
      assert.equal(await store.setDraining('nobody'), false);
      assert.equal((await store.get('a'))?.draining, true);
      const placed = await store.place(request(c, 'p'));
      assert.equal(placed.ok && placed.serverId, 'b');
      // Re-registering clears it; a report saying draining sets it.
      await store.register(identity('a', 100), []);
      assert.equal((await store.get('a'))?.draining, false);
      await store.report(identity('a', 100), { ...load(0), draining: true });
      assert.equal((await store.get('a'))?.draining, true);
    });

    test('only servers this balancer holds take new playgrounds', async () => {
      const c = clock();
      const store = await makeStore(kind, c);
      await store.register(identity('a', 100), [{ playgroundId: 'theirs', players: 1 }]);
      await store.register(identity('b', 2), []);
      const connected = (id: string) => id === 'b';
      const placed = await store.place(request(c, 'new', { connected }));
      assert.equal(placed.ok && placed.serverId, 'b');
      assert.deepEqual(await store.place(request(c, 'theirs', { connected })), {
        ok: false,
        reason: 'home_not_connected',
      });
    });
  });
}

describe('redis store shared by two balancers', () => {
  test('a server held by both is one entry; it dies only when both lose it', async () => {
    const c = clock();
    const a = await makeStore('redis', c, 'lb-a', 'shared1:');
    const b = await makeStore('redis', c, 'lb-b', 'shared1:');
    await a.register(identity('s'), [{ playgroundId: 'p', players: 4 }]);
    await b.register(identity('s'), [{ playgroundId: 'p', players: 4 }]);
    await a.report(identity('s'), load(4, [{ playgroundId: 'p', players: 4 }]));
    const views = await b.list();
    assert.equal(views.length, 1);
    assert.equal(views[0]?.players, 4);
    assert.deepEqual(views[0]?.balancers, ['lb-a', 'lb-b']);
    assert.deepEqual(await a.lose('s', 'socket closed'), { dead: false, dropped: [] });
    assert.equal(await b.homeOf('p'), 's');
    assert.deepEqual(await b.lose('s', 'socket closed'), { dead: true, dropped: ['p'] });
    assert.equal(await a.homeOf('p'), undefined);
  });

  test('entries expire when no balancer refreshes them', async () => {
    const c = clock();
    const a = await makeStore('redis', c, 'lb-a', 'shared2:');
    const b = await makeStore('redis', c, 'lb-b', 'shared2:');
    await a.register(identity('s1'), [{ playgroundId: 'p1', players: 1 }]);
    await b.register(identity('s2'), []);
    for (let i = 0; i < 3; i++) {
      c.advance(TTL_MS / 2);
      await b.refresh(['s2']);
    }
    // lb-a stopped refreshing (it died): s1 no longer counts, and its playground is free.
    assert.deepEqual(
      (await b.list()).map((s) => s.serverId),
      ['s2'],
    );
    assert.equal(await b.homeOf('p1'), undefined);
    const placed = await b.place(request(c, 'p1'));
    assert.equal(placed.ok && placed.serverId, 's2');
  });

  test('two balancers racing to place 20 new playgrounds place each exactly once', async () => {
    const c = clock();
    const a = await makeStore('redis', c, 'lb-a', 'shared3:');
    const b = await makeStore('redis', c, 'lb-b', 'shared3:');
    for (const id of ['s1', 's2', 's3']) {
      await a.register(identity(id, 1000), []);
      await b.register(identity(id, 1000), []);
    }
    const playgrounds = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    const outcomes = await Promise.all(
      playgrounds.flatMap((p) => Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).place(request(c, p)))),
    );
    const homes = new Map<string, Set<string>>();
    outcomes.forEach((o, i) => {
      assert.ok(o.ok, JSON.stringify(o));
      const p = playgrounds[Math.floor(i / 10)] as string;
      if (!homes.has(p)) homes.set(p, new Set());
      homes.get(p)?.add(o.serverId);
    });
    for (const [p, servers] of homes) {
      assert.equal(servers.size, 1, `${p} placed on ${[...servers]}`);
      assert.equal(await a.homeOf(p), [...servers][0]);
    }
    const pending = (await a.list()).reduce((n, s) => n + s.pending, 0);
    assert.equal(pending, 200);
  });

  test('a report built before a redemption keeps its playground mapped when the other balancer applies it late', async () => {
    // The server sends each balancer the same stream: a load report built while the playground was
    // still claiming (not listed), then ticketRedeemed. Each balancer applies it in order, at its
    // own pace: lb-a's redemption can land before lb-b's copy of the report.
    const c = clock();
    const a = await makeStore('redis', c, 'lb-a', 'shared5:');
    const b = await makeStore('redis', c, 'lb-b', 'shared5:');
    for (const id of ['s1', 's2']) {
      await a.register(identity(id), []);
      await b.register(identity(id), []);
    }
    const placed = await a.place(request(c, 'p', { jtis: ['j1'] }));
    assert.ok(placed.ok);
    const home = placed.serverId;
    const built = load(0);
    await a.report(identity(home), built);
    assert.equal(await a.redeem(home, 'j1', 'p'), true);
    await b.report(identity(home), built);
    assert.equal(await b.homeOf('p'), home);
    const next = await b.place(request(c, 'p'));
    assert.equal(next.ok && next.serverId, home);
    // Once lb-b has applied the redemption too, its next report that does not list the playground
    // (retired meanwhile), with no seat pending, drops the mapping as before.
    assert.equal(await b.redeem(home, 'j1', 'p'), false);
    await age(b, c, 31_000, ['s1', 's2']);
    await b.report(identity(home), load(0));
    assert.equal(await b.homeOf('p'), undefined);
  });

  test('seat reservations are atomic: concurrent joins never overfill a server', async () => {
    const c = clock();
    const a = await makeStore('redis', c, 'lb-a', 'shared4:');
    const b = await makeStore('redis', c, 'lb-b', 'shared4:');
    await a.register(identity('tiny', 5), []);
    await b.register(identity('tiny', 5), []);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).place(request(c, 'p'))),
    );
    assert.equal(outcomes.filter((o) => o.ok).length, 5);
    assert.equal((await a.get('tiny'))?.pending, 5);
  });

  test('Redis down: calls fail with LB_STATE_UNAVAILABLE; they work again once it is back', async () => {
    const own = await startRedis();
    try {
      const c = clock();
      const store = await RedisClusterStore.connect({
        url: own.url,
        lbId: 'lb-x',
        ttlMs: TTL_MS,
        logger: silentLogger(),
        now: c.now,
      });
      opened.push(store);
      await store.register(identity('s'), []);
      await own.stop();
      await assert.rejects(store.place(request(c, 'p')), { errorName: 'LB_STATE_UNAVAILABLE', status: 503 });
      await assert.rejects(store.list(), { errorName: 'LB_STATE_UNAVAILABLE' });
      const back = await startRedis({ port: own.port });
      try {
        // The restarted Redis is empty: the next report re-creates the server entry.
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            await store.report(identity('s'), load(0));
            break;
          } catch (err) {
            if (Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        const placed = await store.place(request(c, 'p'));
        assert.equal(placed.ok && placed.serverId, 's');
      } finally {
        await back.stop();
      }
    } finally {
      await own.stop();
    }
  });
});
