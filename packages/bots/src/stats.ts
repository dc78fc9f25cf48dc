/**
 * Latency histogram with fixed 0.1 ms bins up to `maxMs` (plus one overflow bin): recording is one
 * array increment (no allocation on the hot path), histograms from several bot processes merge by
 * adding counts, and percentiles are exact to the bin width.
 */
export class LatencyHistogram {
  static readonly BIN_MS = 0.1;
  readonly counts: Uint32Array;
  count = 0;
  sumMs = 0;

  constructor(maxMs = 10_000) {
    this.counts = new Uint32Array(Math.ceil(maxMs / LatencyHistogram.BIN_MS) + 1);
  }

  record(ms: number): void {
    const last = this.counts.length - 1;
    const bin = ms <= 0 ? 0 : Math.min(last, Math.floor(ms / LatencyHistogram.BIN_MS));
    this.counts[bin] = (this.counts[bin] as number) + 1;
    this.count++;
    this.sumMs += ms;
  }

  /** The `p`-th percentile (nearest rank, 0..100) as the upper edge of its bin; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return (i + 1) * LatencyHistogram.BIN_MS;
    }
    return Number.POSITIVE_INFINITY;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumMs = 0;
  }

  /** Adds another histogram's samples (same bin layout). */
  merge(other: { counts: ArrayLike<number>; count: number; sumMs: number }): void {
    const n = Math.min(this.counts.length, other.counts.length);
    for (let i = 0; i < n; i++) this.counts[i] = (this.counts[i] as number) + (other.counts[i] as number);
    this.count += other.count;
    this.sumMs += other.sumMs;
  }

  /** Non-empty bins as [bin, count] pairs: a compact form to send between processes. */
  toSparse(): { bins: [number, number][]; count: number; sumMs: number } {
    const bins: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i] as number;
      if (c > 0) bins.push([i, c]);
    }
    return { bins, count: this.count, sumMs: this.sumMs };
  }

  static fromSparse(s: { bins: [number, number][]; count: number; sumMs: number }, maxMs = 10_000) {
    const h = new LatencyHistogram(maxMs);
    for (const [i, c] of s.bins) if (i < h.counts.length) h.counts[i] = c;
    h.count = s.count;
    h.sumMs = s.sumMs;
    return h;
  }
}

/** Percentile (nearest rank, `p` in 0..100) of a list of samples; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * What each bot sent recently, to recognise its moves when another bot receives them: a ring of the
 * last `depth` (x, z, send time) per sender slot, in flat typed arrays.
 */
export class SendLog {
  readonly depth: number;
  private readonly xs: Float64Array;
  private readonly zs: Float64Array;
  private readonly ts: Float64Array;
  private readonly heads: Uint32Array;

  constructor(slots: number, depth = 32) {
    this.depth = depth;
    this.xs = new Float64Array(slots * depth);
    this.zs = new Float64Array(slots * depth);
    this.ts = new Float64Array(slots * depth).fill(Number.NaN);
    this.heads = new Uint32Array(slots);
  }

  record(slot: number, x: number, z: number, atMs: number): void {
    const head = this.heads[slot] as number;
    const i = slot * this.depth + head;
    this.xs[i] = x;
    this.zs[i] = z;
    this.ts[i] = atMs;
    this.heads[slot] = (head + 1) % this.depth;
  }

  /**
   * Send time of the newest recorded move of `slot` whose position is within `toleranceM` of
   * (x, z) on both axes, or NaN when none matches (too old, or not a position this slot sent).
   */
  match(slot: number, x: number, z: number, toleranceM: number): number {
    const base = slot * this.depth;
    let k = this.heads[slot] as number;
    for (let n = 0; n < this.depth; n++) {
      k = k === 0 ? this.depth - 1 : k - 1;
      const i = base + k;
      if (
        Math.abs((this.xs[i] as number) - x) <= toleranceM &&
        Math.abs((this.zs[i] as number) - z) <= toleranceM
      ) {
        return this.ts[i] as number;
      }
    }
    return Number.NaN;
  }
}
