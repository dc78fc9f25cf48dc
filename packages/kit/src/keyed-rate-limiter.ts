/**
 * Token buckets by key (a session, an address): `ratePerSec` tokens refill continuously up to
 * `burst`; each request takes one. At most `maxKeys` buckets are kept — the least recently used
 * goes first (a forgotten key starts full again, which only errs towards letting a request in).
 */
export class KeyedRateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(options: { ratePerSec: number; burst: number; maxKeys?: number; now?: () => number }) {
    this.#ratePerMs = options.ratePerSec / 1000;
    this.#burst = options.burst;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Takes a token for `key`; false when its bucket is empty (the caller is over its rate). */
  take(key: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, now - bucket.at) * this.#ratePerMs);
    bucket.at = now;
    // Re-inserting keeps the Map in least-recently-used order.
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }
}
