import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Registry } from '@plexus/kit';
import { createServerMetrics } from '../packages/server/src/metrics.ts';
import { inProcessBackend, inProcessBalancer } from './in-process.ts';

const OPERATIONS = new URL('../docs/operations.md', import.meta.url);
const DASHBOARD = new URL('../deploy/grafana/plexus.json', import.meta.url);

/** Metric names of a registry, without prom-client's default Node series. */
async function namesOf(registry: Registry): Promise<{ name: string; type: string }[]> {
  return (await registry.getMetricsAsJSON())
    .filter((m) => !m.name.startsWith('process_') && !m.name.startsWith('nodejs_'))
    .map((m) => ({ name: m.name, type: String(m.type) }));
}

test('every metric is plexus_<component>_…, names its unit, is listed in docs/operations.md; the dashboard charts real series', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'plexus-metrics-'));
  const backend = await inProcessBackend(dataDir);
  const balancer = await inProcessBalancer();
  try {
    const server = createServerMetrics({ clients: () => 0, playgrounds: () => 0, entities: () => 0 });
    const doc = await readFile(OPERATIONS, 'utf8');
    const problems: string[] = [];
    for (const [component, registry] of [
      ['backend', backend.metrics.registry],
      ['lb', balancer.metrics.registry],
      ['ds', server.registry],
    ] as const) {
      for (const { name, type } of await namesOf(registry)) {
        if (!name.startsWith(`plexus_${component}_`)) problems.push(`${name}: not plexus_${component}_…`);
        if (type === 'counter' && !name.endsWith('_total'))
          problems.push(`${name}: a counter ends in _total`);
        if (type === 'histogram' && !/_(seconds|bytes)$/.test(name)) {
          problems.push(`${name}: a histogram names its unit (_seconds, _bytes)`);
        }
        if (!doc.includes(`\`${name}\``)) problems.push(`${name}: not in docs/operations.md`);
      }
    }
    assert.deepEqual(problems, []);

    // The Grafana dashboard charts series that exist (histograms through their _bucket/_count).
    const known = new Set<string>();
    for (const registry of [backend.metrics.registry, balancer.metrics.registry, server.registry]) {
      for (const { name } of await namesOf(registry)) known.add(name);
    }
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const charted = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/plexus_[a-z0-9_]+/g)].map((m) => m[0])),
    );
    const unknown = charted.filter((n) => !known.has(n.replace(/_(bucket|count|sum)$/, '')));
    assert.deepEqual(unknown, [], 'the dashboard names only real series');
    for (const metric of [
      'plexus_ds_tick_duration_seconds',
      'plexus_ds_resume_downtime_seconds',
      'plexus_lb_servers_dead_total',
    ]) {
      assert.ok(
        charted.some((n) => n.startsWith(metric)),
        `the dashboard charts ${metric}`,
      );
    }
  } finally {
    await balancer.app.close();
    await backend.app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
