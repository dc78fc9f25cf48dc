/**
 * Ticket ids already admitted, each kept until its ticket expires (after which the ticket is
 * refused as expired anyway). Bounded: when full of unexpired entries, `add` fails and the caller
 * refuses the join rather than forgetting an id that could then be replayed.
 */
export class ReplayCache {
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** jti → expiry (ms since epoch). Tickets share one TTL, so insertion order ≈ expiry order. */
  private readonly entries = new Map<string, number>();

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.maxEntries = maxEntries;
    this.now = now;
  }

  get size(): number {
    return this.entries.size;
  }

  has(jti: string): boolean {
    const exp = this.entries.get(jti);
    if (exp === undefined) return false;
    if (exp <= this.now()) {
      this.entries.delete(jti);
      return false;
    }
    return true;
  }

  /** Records a used ticket id until `expMs`. False when the cache is full of live entries. */
  add(jti: string, expMs: number): boolean {
    this.prune();
    if (this.entries.size >= this.maxEntries) this.prune(true);
    if (this.entries.size >= this.maxEntries) return false;
    this.entries.set(jti, expMs);
    return true;
  }

  /** Forgets an id recorded by a join that was then refused (the ticket was not used after all). */
  delete(jti: string): void {
    this.entries.delete(jti);
  }

  /**
   * Drops expired entries: from the oldest until the first live one, or (`full`) all of them,
   * for the rare ticket with a longer TTL that sits in front of expired ones.
   */
  prune(full = false): void {
    const now = this.now();
    for (const [jti, exp] of this.entries) {
      if (exp <= now) this.entries.delete(jti);
      else if (!full) break;
    }
  }
}
