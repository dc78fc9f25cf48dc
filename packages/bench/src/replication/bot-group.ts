import { LatencyHistogram } from '@plexus/bots';
import type { BotProcess } from './bot-client.ts';
import type { BotStatus, BotWindow } from './bot-protocol.ts';
import { pin } from './proc.ts';

/** A window over every bot process: sums, one merged latency histogram, and the busiest process. */
export interface GroupWindow extends BotWindow {
  /** CPU time of the busiest bot process over the window, s. */
  cpuMaxS: number;
}

/**
 * `--bot-procs K`: the bots of one system and workload split over K processes (docs/benchmarks.md),
 * so that the server and not one bot process is what saturates. Clients and observers are dealt
 * out evenly; each process measures latency between its own movers and observers.
 */
export class BotGroup {
  readonly procs: BotProcess[];

  constructor(
    procs: number,
    start: (env: Record<string, string>) => BotProcess,
    observers: number,
    cores: { server: number; count: number },
  ) {
    this.procs = [];
    // Bot processes take every core but the server's, round-robin.
    const botCores = Array.from({ length: cores.count }, (_, c) => c).filter((c) => c !== cores.server);
    for (let i = 0; i < procs; i++) {
      const share = Math.floor(observers / procs) + (i < observers % procs ? 1 : 0);
      const p = start({ BENCH_OBSERVERS: String(share) });
      pin(p.pid, botCores[i % botCores.length] ?? 0, cores.count);
      this.procs.push(p);
    }
  }

  /** Adds `count` clients, dealt out so that the processes stay within one of each other. */
  async join(count: number): Promise<void> {
    const status = await Promise.all(this.procs.map((p) => p.status()));
    const add = dealOut(
      status.map((s) => s.joined + s.failed),
      count,
    );
    await Promise.all(this.procs.map((p, i) => ((add[i] as number) > 0 ? p.join(add[i] as number) : null)));
  }

  async status(): Promise<BotStatus> {
    const all = await Promise.all(this.procs.map((p) => p.status()));
    const sum = (f: (s: BotStatus) => number) => all.reduce((a, s) => a + f(s), 0);
    const max = (f: (s: BotStatus) => number) => Math.max(...all.map(f));
    return {
      joined: sum((s) => s.joined),
      failed: sum((s) => s.failed),
      connected: sum((s) => s.connected),
      deploying: sum((s) => s.deploying),
      disconnects: sum((s) => s.disconnects),
      errors: all.flatMap((s) => s.errors),
      // The slowest process's percentiles (joins are dealt out evenly, so they are comparable).
      joinMs: { p50: max((s) => s.joinMs.p50), p99: max((s) => s.joinMs.p99) },
    };
  }

  async windowStart(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.windowStart()));
  }

  async window(): Promise<GroupWindow> {
    const all = await Promise.all(this.procs.map((p) => p.window()));
    const latency = new LatencyHistogram();
    for (const w of all) latency.merge(LatencyHistogram.fromSparse(w.latency));
    const sum = (f: (w: BotWindow) => number) => all.reduce((a, w) => a + f(w), 0);
    return {
      seconds: Math.max(...all.map((w) => w.seconds)),
      clients: sum((w) => w.clients),
      bytesReceived: sum((w) => w.bytesReceived),
      movesSent: sum((w) => w.movesSent),
      latency: latency.toSparse(),
      cpuS: sum((w) => w.cpuS),
      cpuMaxS: Math.max(...all.map((w) => w.cpuS)),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

/** How many of `count` new clients each process gets, given how many it holds: the least loaded first. */
export function dealOut(held: readonly number[], count: number): number[] {
  const total = held.map((h) => h);
  const add = held.map(() => 0);
  for (let k = 0; k < count; k++) {
    let min = 0;
    for (let i = 1; i < total.length; i++) if ((total[i] as number) < (total[min] as number)) min = i;
    total[min] = (total[min] as number) + 1;
    add[min] = (add[min] as number) + 1;
  }
  return add;
}
