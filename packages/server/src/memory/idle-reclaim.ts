import { performance } from 'node:perf_hooks';
import type { Logger } from '@plexus/kit';

/**
 * Gives back the memory a burst of joins leaves resident, once the server is quiet
 * (docs/operations.md, "Memory of a dedicated server"). V8 runs a major GC only when the old
 * generation reaches its limit, which an idle server, allocating little, does not reach: the
 * burst's garbage, the young generation it grew and V8's pooled pages then stay resident for good
 * (about 25 KiB per idle client). One memory-reducing full GC (V8's `last-resort` flavour) returns
 * them. It stops the event loop for about 0.1 s at 1,000 idle clients, so it runs only after
 * `quietS` quiet seconds in a row, when resident memory has grown by `growthBytes` since the last
 * reclaim (or start-up), and at most once per `minIntervalS`: a busy server is never interrupted.
 */
export interface IdleReclaimOptions {
  /** Growth of resident memory that calls for a reclaim, bytes; 0 turns reclaiming off. */
  growthBytes: number;
  /** Quiet seconds in a row before a reclaim. */
  quietS: number;
  /** Fewest seconds between two reclaims. */
  minIntervalS: number;
}

/** What the reclaimer reads and does, one second at a time. */
export interface IdleReclaimProbes {
  /** Resident memory, bytes. */
  rss(): number;
  /** Event-loop utilisation (0–1) since the previous call. */
  utilisation(): number;
  /** Monotonic milliseconds. */
  now(): number;
  /** The memory-reducing full GC. */
  collect(): void;
}

export interface Reclaimed {
  pauseMs: number;
  rssBefore: number;
  rssAfter: number;
}

/**
 * A second whose event loop was busier than this is not quiet. A burst of joins keeps it at 0.3–0.9;
 * 1,000 idle clients (their pings, the tick) at 0.03–0.10 depending on the machine. Light play
 * (200 walking avatars, ~0.18) also counts as quiet: the growth threshold and the minimum interval
 * keep a reclaim there to one after the memory grew, never a steady cost.
 */
export const QUIET_UTILISATION = 0.25;

export class IdleReclaim {
  /** Resident memory after the last reclaim, or the least seen since: growth counts from here. */
  private baseline: number;
  private quietSeconds = 0;
  private lastAtMs = Number.NEGATIVE_INFINITY;
  private readonly options: IdleReclaimOptions;
  private readonly probes: IdleReclaimProbes;

  constructor(options: IdleReclaimOptions, probes: IdleReclaimProbes) {
    this.options = options;
    this.probes = probes;
    this.baseline = probes.rss();
  }

  /** One second's look: reclaims when it is due, and says what that gave back. */
  check(): Reclaimed | null {
    const { options, probes } = this;
    this.quietSeconds = probes.utilisation() < QUIET_UTILISATION ? this.quietSeconds + 1 : 0;
    const rss = probes.rss();
    this.baseline = Math.min(this.baseline, rss);
    const start = probes.now();
    if (
      options.growthBytes === 0 ||
      rss - this.baseline < options.growthBytes ||
      this.quietSeconds < options.quietS ||
      start - this.lastAtMs < options.minIntervalS * 1000
    )
      return null;
    probes.collect();
    const end = probes.now();
    const rssAfter = probes.rss();
    this.baseline = rssAfter;
    this.lastAtMs = end;
    this.quietSeconds = 0;
    return { pauseMs: end - start, rssBefore: rss, rssAfter };
  }
}

/**
 * Runs an {@link IdleReclaim} on this process, checked every second. The GC comes from
 * `--expose-gc`, which `plexus server` starts the process with; without it (or with a growth of 0)
 * nothing runs and null is returned.
 */
export function startIdleReclaim(
  options: IdleReclaimOptions,
  logger: Logger,
  onReclaim: (r: Reclaimed) => void,
): { stop(): void } | null {
  if (options.growthBytes === 0) return null;
  const gc = globalThis.gc;
  if (typeof gc !== 'function') {
    logger.info('memory reclaim off: the process was started without --expose-gc (plexus server adds it)');
    return null;
  }
  let elu = performance.eventLoopUtilization();
  const reclaim = new IdleReclaim(options, {
    rss: () => process.memoryUsage.rss(),
    utilisation: () => {
      const delta = performance.eventLoopUtilization(elu);
      elu = performance.eventLoopUtilization();
      return delta.utilization;
    },
    now: () => performance.now(),
    collect: () => gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }),
  });
  const timer = setInterval(() => {
    const r = reclaim.check();
    if (!r) return;
    logger.info(
      {
        pauseMs: Math.round(r.pauseMs),
        rssBeforeMiB: Math.round(r.rssBefore / 2 ** 20),
        rssAfterMiB: Math.round(r.rssAfter / 2 ** 20),
      },
      'memory reclaimed while quiet',
    );
    onReclaim(r);
  }, 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
