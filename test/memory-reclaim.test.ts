import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Playground, PlexusClient } from '@plexus/client';
import { crowdServerEnv, type Stack, startStack, waitFor } from '@plexus/testkit';

// The dedicated server gives a burst's memory back once it is quiet (docs/operations.md, "Memory of
// a dedicated server"), on a real `plexus server` process: after a burst of joins and a quiet
// second, one memory-reducing GC runs, and the playground goes on as before.
const CLIENTS = 60;

async function reclaims(serverUrl: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const m = /^plexus_ds_memory_reclaims_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  assert.ok(m, 'the reclaim counter is exported');
  return Number(m[1]);
}

describe('memory reclaim when quiet', () => {
  let stack: Stack;
  const joined: Playground[] = [];

  before(async () => {
    stack = await startStack({
      servers: 1,
      serverEnv: () => ({
        ...crowdServerEnv(CLIENTS),
        // Small enough for a test's burst; one quiet second; no minimum interval to wait out.
        PLEXUS_DS_RECLAIM_GROWTH_MB: '1',
        PLEXUS_DS_RECLAIM_QUIET_S: '1',
        PLEXUS_DS_RECLAIM_MIN_INTERVAL_S: '1',
      }),
    });
  });

  after(async () => {
    await Promise.allSettled(joined.map((pg) => pg.leave()));
    await stack?.stop();
  });

  test('after a burst of joins the server reclaims once quiet, and its clients go on', {
    timeout: 60_000,
  }, async () => {
    const url = (stack.servers[0] as { url: string }).url;
    const before = await reclaims(url);
    for (let batch = 0; batch < CLIENTS; batch += 20) {
      const group = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const client = new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
          await client.loginAsGuest({ firstName: `Quiet${batch + i}` });
          return client.join({ playgroundId: 'reclaim' });
        }),
      );
      joined.push(...group);
    }
    // Polled once a second: a scrape every few milliseconds would itself keep the server busy.
    await waitFor(async () => (await reclaims(url)) > before, {
      timeoutMs: 20_000,
      intervalMs: 1000,
      what: 'a reclaim',
    });
    // The playground is whole after the pause: a move reaches everyone.
    const [mover, ...others] = joined as [Playground, ...Playground[]];
    const target = { x: 3.25, y: 0, z: -1.5 };
    assert.ok(mover.move({ position: target }));
    await waitFor(
      () =>
        others.every((pg) => {
          const e = pg.entities.get(mover.selfId);
          return e !== undefined && Math.abs(e.position.x - target.x) < 0.001;
        }),
      { timeoutMs: 10_000 },
    );
    assert.equal(joined.filter((pg) => pg.state !== 'connected').length, 0, 'nobody dropped');
  });
});
