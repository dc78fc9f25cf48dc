import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeMove, type LoadMessage } from '@plexus/protocol';
import { ReplicationStats } from '../replication/replication-stats.ts';
import { joinAs as join, startStack } from '../testing/stack.ts';

const Q = { x: 0, y: 0, z: 0, w: 1 };
const isLoad = (m: { type: string }): m is LoadMessage => m.type === 'load';

describe('figures of the load report (operator console)', () => {
  test('tick p50 and p99 over the interval', () => {
    let now = 0;
    const stats = new ReplicationStats(() => now);
    for (let i = 1; i <= 100; i++) stats.endTick(i / 10); // 0.1 … 10 ms
    now = 1000;
    const report = stats.takeReport();
    assert.equal(report.tickP50Ms, 5);
    assert.equal(report.tickP99Ms, 9.9);
    assert.deepEqual([stats.takeReport().tickP50Ms, stats.takeReport().tickP99Ms], [0, 0]);
  });

  test('an unsaved change shows as checkpoint lag and playground age; a saved one clears the lag', async () => {
    // No checkpoint round within the test: the change stays unsaved.
    const stack = await startStack({ checkpointMs: 600_000, loadIntervalMs: 50 });
    try {
      const a = await join(stack, 'lagging', 'user-lag');
      a.c.send(encodeMove(a.welcome.selfId, { x: 1, y: 0, z: 1 }, Q));
      const report = (await stack.balancer.waitFor(
        (m) => isLoad(m) && (m.checkpointLagMs ?? 0) >= 100,
        10_000,
      )) as LoadMessage;
      const pg = report.playgrounds.find((p) => p.playgroundId === 'lagging');
      assert.equal(pg?.epoch, 1);
      // The lag is the only unsaved playground's age (read a moment apart within one report).
      const age = pg?.checkpointAgeMs ?? -1;
      assert.ok(age >= 100 && Math.abs(age - (report.checkpointLagMs ?? 0)) < 1000, `age ${age} ms`);
    } finally {
      await stack.close();
    }

    const saving = await startStack({ checkpointMs: 50, loadIntervalMs: 50 });
    try {
      const a = await join(saving, 'saved', 'user-saved');
      a.c.send(encodeMove(a.welcome.selfId, { x: 1, y: 0, z: 1 }, Q));
      await saving.balancer.waitFor((m) => m.type === 'rpc' && m.method === 'checkpoints.write', 10_000);
      const report = (await saving.balancer.waitFor(
        (m) => isLoad(m) && m.checkpointLagMs === 0 && m.playgrounds.some((p) => p.playgroundId === 'saved'),
        10_000,
      )) as LoadMessage;
      const age = report.playgrounds.find((p) => p.playgroundId === 'saved')?.checkpointAgeMs;
      assert.ok(age !== undefined && age < 10_000, `a recent checkpoint (${age} ms)`);
      assert.ok((report.tickP50Ms ?? -1) >= 0 && (report.tickP50Ms ?? 0) <= (report.tickP99Ms ?? 0));
    } finally {
      await saving.close();
    }
  });

  test('a resume is counted in plexus_ds_resume_downtime_seconds', async () => {
    const stack = await startStack({ resumeGraceMs: 10_000 });
    try {
      const a = await join(stack, 'downtime', 'user-d');
      a.c.close();
      const back = await join(stack, 'downtime', 'user-d', a.welcome.resumeToken);
      assert.equal(back.welcome.resumed, true);
      const metrics = await (await fetch(`${stack.server.url}/metrics`)).text();
      assert.match(metrics, /^plexus_ds_resume_downtime_seconds_count\{[^}]*\} 1$/m);
    } finally {
      await stack.close();
    }
  });
});
