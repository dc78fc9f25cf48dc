import { PlexusClient } from '@plexus/client';
import { startStack } from '@plexus/testkit';
import { fmt, median, percentile } from './stats.ts';

export interface JoinTimeResult {
  joins: number;
  totalMs: { p50: number; p99: number };
  loginMs: number;
  endpointAndWelcomeMs: number;
  baselineHttpMs: number;
  ratio: number;
}

/**
 * Join time as a user feels it: from the guest login request to the moment the SDK has the
 * WELCOME and the full snapshot (`client.join` resolved), over the real processes on loopback.
 * Baseline, interleaved with every join: one plain HTTP round trip to the balancer's /healthz.
 */
export async function measureJoinTime(joins: number): Promise<JoinTimeResult> {
  const stack = await startStack({ servers: 2 });
  try {
    const total: number[] = [];
    const login: number[] = [];
    const rest: number[] = [];
    const baseline: number[] = [];
    for (let i = -5; i < joins; i++) {
      const b0 = performance.now();
      await (await fetch(`${stack.balancerUrl}/healthz`)).arrayBuffer();
      const b1 = performance.now();
      const client = new PlexusClient({ balancerUrl: stack.balancerUrl });
      const t0 = performance.now();
      await client.loginAsGuest({ firstName: `Bench${i}` });
      const t1 = performance.now();
      const pg = await client.join({ playgroundId: `bench-${i % 4}` });
      const t2 = performance.now();
      await pg.leave();
      if (i < 0) continue; // warm-up
      baseline.push(b1 - b0);
      total.push(t2 - t0);
      login.push(t1 - t0);
      rest.push(t2 - t1);
    }
    const baselineHttpMs = median(baseline);
    return {
      joins,
      totalMs: { p50: median(total), p99: percentile(total, 99) },
      loginMs: median(login),
      endpointAndWelcomeMs: median(rest),
      baselineHttpMs,
      ratio: median(total) / baselineHttpMs,
    };
  } finally {
    await stack.stop();
  }
}

export function joinTimeTable(r: JoinTimeResult): string {
  return [
    '| measure | median (ms) |',
    '|---|---|',
    `| login → welcome snapshot, p50 | ${fmt(r.totalMs.p50)} |`,
    `| login → welcome snapshot, p99 | ${fmt(r.totalMs.p99)} |`,
    `| of which guest login (auth.guest, forwarded by the balancer) | ${fmt(r.loginMs)} |`,
    `| of which getEndpointPlaygroundId + connect + WELCOME + keyframe | ${fmt(r.endpointAndWelcomeMs)} |`,
    `| baseline: one HTTP round trip to the balancer's /healthz | ${fmt(r.baselineHttpMs, 3)} |`,
    `| ratio join p50 / baseline | ${fmt(r.ratio, 1)}× |`,
  ].join('\n');
}
