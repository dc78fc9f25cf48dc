/** The replication figures of the load report (protocol LoadMessage), since the previous report. */
export interface ReplicationReport {
  bytesOutPerSec: number;
  tickP50Ms: number;
  tickP99Ms: number;
  backpressureSkips: number;
}

/** Tick durations kept for the p50 and p99 of one report interval (20 Hz × a few seconds). */
const MAX_SAMPLES = 1024;

/**
 * Adds up one server tick over all playgrounds (STATE bytes sent, clients skipped by backpressure,
 * tick duration) for the metrics and for the load reports to the balancer. Bounded: a ring of the
 * last MAX_SAMPLES tick durations (p50 and p99 per report).
 */
export class ReplicationStats {
  private readonly now: () => number;
  private tickBytes = 0;
  private bytesSinceReport = 0;
  private skipsSinceReport = 0;
  private readonly durations = new Float64Array(MAX_SAMPLES);
  private samples = 0;
  private reportedAt: number;

  constructor(now: () => number) {
    this.now = now;
    this.reportedAt = now();
  }

  /** One playground's share of the current tick. */
  add(bytes: number, skips: number): void {
    this.tickBytes += bytes;
    this.bytesSinceReport += bytes;
    this.skipsSinceReport += skips;
  }

  /** Closes the current tick; returns the STATE bytes it sent. */
  endTick(durationMs: number): number {
    this.durations[this.samples % MAX_SAMPLES] = durationMs;
    this.samples++;
    const bytes = this.tickBytes;
    this.tickBytes = 0;
    return bytes;
  }

  /** The figures since the previous call, then starts a new interval. */
  takeReport(): ReplicationReport {
    const at = this.now();
    const seconds = Math.max(0.001, (at - this.reportedAt) / 1000);
    const n = Math.min(this.samples, MAX_SAMPLES);
    const sorted = Array.from(this.durations.subarray(0, n)).sort((a, b) => a - b);
    const quantile = (q: number) =>
      n === 0 ? 0 : Math.round((sorted[Math.min(n - 1, Math.ceil(n * q) - 1)] as number) * 1000) / 1000;
    const report = {
      bytesOutPerSec: Math.round(this.bytesSinceReport / seconds),
      tickP50Ms: quantile(0.5),
      tickP99Ms: quantile(0.99),
      backpressureSkips: this.skipsSinceReport,
    };
    this.reportedAt = at;
    this.bytesSinceReport = 0;
    this.skipsSinceReport = 0;
    this.samples = 0;
    return report;
  }
}
