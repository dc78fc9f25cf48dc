import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Playground, PlexusClient } from '@plexus/client';
import { DEV_SECRETS } from '@plexus/kit';
import {
  type ComponentProcess,
  type RedisServer,
  startComponent,
  startRedis,
  waitFor,
} from '@plexus/testkit';

// Several balancers on Redis, against real processes: a backend, two balancers sharing one
// redis-server, three dedicated servers connected to both balancers.
interface ServerRow {
  serverId: string;
  balancers: string[];
  players: number;
  playgrounds: { playgroundId: string; players: number }[];
}

/** The registry as the operator sees it (with each server's playgrounds). */
async function serversOf(balancerUrl: string): Promise<ServerRow[]> {
  const res = await fetch(`${balancerUrl}/lb/api/v0/servers`, {
    headers: { authorization: `Bearer ${DEV_SECRETS.operatorKey}` },
  });
  return ((await res.json()) as { data: { servers: ServerRow[] } }).data.servers;
}

describe('two balancers on Redis', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'plexus-multi-lb-'));
  const processes: ComponentProcess[] = [];
  let redis: RedisServer;
  let backend: ComponentProcess;
  let lbA: ComponentProcess;
  let lbB: ComponentProcess;
  const playgrounds: Playground[] = [];
  const common = {
    PLEXUS_PARTNER_KEY: 'multi-lb-partner-key',
    PLEXUS_CLUSTER_SECRET: 'multi-lb-cluster-secret',
    NODE_ENV: 'test',
  };

  before(async () => {
    redis = await startRedis();
    backend = await startComponent('backend', 'backend', {
      ...common,
      PLEXUS_BACKEND_PORT: '0',
      PLEXUS_DATA_DIR: dataDir,
    });
    processes.push(backend);
    // Each process is owned by `after` as soon as it runs, so that one slow to start (a failed
    // `before`) never leaves the others running and the test file hanging.
    const started = async (p: Promise<ComponentProcess>) => {
      const proc = await p;
      processes.push(proc);
      return proc;
    };
    const balancer = (lbId: string) =>
      started(
        startComponent(lbId, 'balancer', {
          ...common,
          PLEXUS_LB_PORT: '0',
          PLEXUS_LB_ID: lbId,
          PLEXUS_BACKEND_URL: backend.url,
          PLEXUS_REDIS_URL: redis.url,
        }),
      );
    [lbA, lbB] = await Promise.all([balancer('lb-a'), balancer('lb-b')]);
    await Promise.all(
      [1, 2, 3].map((i) =>
        started(
          startComponent(`ds-${i}`, 'server', {
            ...common,
            PLEXUS_DS_PORT: '0',
            PLEXUS_DS_ID: `ds-${i}`,
            PLEXUS_BALANCER_URL: `${lbA.url},${lbB.url}`,
            // Every test client comes from 127.0.0.1.
            PLEXUS_DS_MAX_SOCKETS_PER_ADDRESS: '1000',
            PLEXUS_DS_MAX_PENDING_HANDSHAKES_PER_ADDRESS: '1000',
          }),
        ),
      ),
    );
    await waitFor(
      async () => {
        const rows = await serversOf(lbA.url);
        return rows.length === 3 && rows.every((r) => r.balancers.length === 2);
      },
      { timeoutMs: 20_000, what: 'three servers registered with both balancers' },
    );
  });

  after(async () => {
    await Promise.all(playgrounds.map((pg) => pg.leave()));
    await Promise.all([...processes].reverse().map((p) => p.stop()));
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('200 concurrent joins to 20 new playgrounds split across both: every playground lives on exactly one server', async () => {
    const clients = Array.from(
      { length: 200 },
      // 200 joins at once queue behind each other on a loaded 2-core CI box: the slowest may take
      // longer than the SDK's default 10 s, and this test is about where playgrounds land.
      (_, i) =>
        new PlexusClient({
          balancerUrl: i % 2 ? lbA.url : lbB.url,
          backendUrl: backend.url,
          requestTimeoutMs: 30_000,
        }),
    );
    await Promise.all(clients.map((c, i) => c.loginAsGuest({ firstName: `P${i}` })));
    const joined = await Promise.all(clients.map((c, i) => c.join({ playgroundId: `race-${i % 20}` })));
    playgrounds.push(...joined);

    const homes = new Map<string, Set<string>>();
    joined.forEach((pg, i) => {
      const playgroundId = `race-${i % 20}`;
      if (!homes.has(playgroundId)) homes.set(playgroundId, new Set());
      homes.get(playgroundId)?.add(pg.serverId);
    });
    assert.equal(homes.size, 20);
    for (const [playgroundId, servers] of homes) {
      assert.equal(servers.size, 1, `${playgroundId} is on ${[...servers].join(', ')}`);
    }

    // The servers' own reports agree, as seen from either balancer: each playground on one server,
    // 200 players, none counted twice.
    for (const url of [lbA.url, lbB.url]) {
      await waitFor(
        async () => {
          const rows = await serversOf(url);
          const total = rows.reduce((n, r) => n + r.players, 0);
          const hosting = new Map<string, number>();
          for (const r of rows) {
            for (const p of r.playgrounds)
              if (p.players > 0) hosting.set(p.playgroundId, (hosting.get(p.playgroundId) ?? 0) + 1);
          }
          return total === 200 && hosting.size === 20 && [...hosting.values()].every((n) => n === 1);
        },
        { timeoutMs: 15_000, what: `200 players in 20 playgrounds, each on one server (${url})` },
      );
    }
    const rows = await serversOf(lbA.url);
    for (const [playgroundId, servers] of homes) {
      const reported = rows.filter((r) =>
        r.playgrounds.some((p) => p.playgroundId === playgroundId && p.players > 0),
      );
      assert.deepEqual(
        reported.map((r) => r.serverId),
        [...servers],
        playgroundId,
      );
    }
  });

  test('kill one balancer: clients keep joining through the other', async () => {
    await lbA.kill();
    const clients = Array.from(
      { length: 20 },
      () => new PlexusClient({ balancerUrl: [lbA.url, lbB.url], backendUrl: backend.url }),
    );
    await Promise.all(clients.map((c, i) => c.loginAsGuest({ firstName: `After${i}` })));
    const joined = await Promise.all(clients.map((c, i) => c.join({ playgroundId: `after-${i % 4}` })));
    playgrounds.push(...joined);
    for (const pg of joined) assert.ok(pg.connected);
    // Playgrounds placed before the kill are still joinable (their servers are held by lb-b).
    const late = new PlexusClient({ balancerUrl: [lbA.url, lbB.url], backendUrl: backend.url });
    await late.loginAsGuest({ firstName: 'Late' });
    const pg = await late.join({ playgroundId: 'race-3' });
    playgrounds.push(pg);
    assert.ok(pg.connected);
  });
});
