import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Playground, PlexusClient } from '@plexus/client';
import type { Vec3 } from '@plexus/protocol';
import { crowdServerEnv, type Stack, startStack, waitFor } from '@plexus/testkit';

// Replication correctness at a few hundred clients, end to end: real processes, the SDK, one
// playground spread over an area much larger than the interest radius. Not a speed test.
const CLIENTS = 240;
const SIDE_M = 500;
const RADIUS_M = 100;
const HYSTERESIS_M = 10;
/** Quantisation: 0.5 mm per axis; a little float slack on top. */
const EPSILON_M = 0.0006;

describe('replication at scale', () => {
  let stack: Stack;
  const joined: { pg: Playground; position: Vec3 }[] = [];

  before(async () => {
    stack = await startStack({
      servers: 1,
      serverEnv: () => ({
        ...crowdServerEnv(CLIENTS),
        // Let the bots jump straight to their spread-out starting points.
        PLEXUS_DS_MAX_SPEED_MPS: '2000',
        PLEXUS_DS_INTEREST_RADIUS_M: String(RADIUS_M),
        PLEXUS_DS_INTEREST_HYSTERESIS_M: String(HYSTERESIS_M),
      }),
    });
  });

  after(async () => {
    await Promise.allSettled(joined.map(({ pg }) => pg.leave()));
    await stack?.stop();
  });

  test(`${CLIENTS} clients converge to exactly the avatars within their interest radius`, {
    timeout: 60_000,
  }, async () => {
    let seed = 3;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let batch = 0; batch < CLIENTS; batch += 40) {
      const group = await Promise.all(
        Array.from({ length: Math.min(40, CLIENTS - batch) }, async (_, i) => {
          const client = new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
          await client.loginAsGuest({ firstName: `Bot${batch + i}` });
          const pg = await client.join({ playgroundId: 'swarm' });
          return { pg, position: { x: (rand() - 0.5) * SIDE_M, y: 0, z: (rand() - 0.5) * SIDE_M } };
        }),
      );
      joined.push(...group);
    }
    for (const c of joined) assert.ok(c.pg.move({ position: c.position }));

    // Random walk at ~5 m/s, 10 moves/s, for 2 s; then everyone stops.
    for (let step = 0; step < 20; step++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const c of joined) {
        const a = rand() * 2 * Math.PI;
        c.position = {
          x: Math.max(-SIDE_M / 2, Math.min(SIDE_M / 2, c.position.x + Math.cos(a) * 0.5)),
          y: 0,
          z: Math.max(-SIDE_M / 2, Math.min(SIDE_M / 2, c.position.z + Math.sin(a) * 0.5)),
        };
        c.pg.move({ position: c.position });
      }
    }

    const bySelf = new Map(joined.map((c) => [c.pg.selfId, c]));
    const mismatches = (): string[] => {
      const problems: string[] = [];
      for (const c of joined) {
        for (const other of joined) {
          if (other === c) continue;
          const d = Math.hypot(other.position.x - c.position.x, other.position.z - c.position.z);
          const seen = c.pg.entities.get(other.pg.selfId);
          if (d <= RADIUS_M) {
            if (!seen) problems.push(`${c.pg.selfId} misses ${other.pg.selfId} at ${d.toFixed(1)} m`);
            else if (
              Math.abs(seen.position.x - other.position.x) > EPSILON_M ||
              Math.abs(seen.position.z - other.position.z) > EPSILON_M
            ) {
              problems.push(`${c.pg.selfId} sees ${other.pg.selfId} at a stale position`);
            }
          } else if (d > RADIUS_M + HYSTERESIS_M && seen) {
            problems.push(`${c.pg.selfId} still holds ${other.pg.selfId} at ${d.toFixed(1)} m`);
          }
        }
        for (const id of c.pg.entities.keys()) {
          if (id !== c.pg.selfId && !bySelf.has(id))
            problems.push(`${c.pg.selfId} holds unknown entity ${id}`);
        }
      }
      return problems;
    };
    await waitFor(() => mismatches().length === 0, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: 'every client to converge',
    }).catch(() => undefined);
    const problems = mismatches();
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} mismatches`);
    // The world is larger than the radius: nobody sees everyone, everyone sees someone.
    const counts = joined.map((c) => c.pg.entities.size);
    assert.ok(Math.max(...counts) < CLIENTS, 'interest filters');
    assert.ok(
      joined.every((c) => c.pg.connected),
      'nobody was disconnected',
    );
  });
});
