/**
 * Token bucket: `ratePerSec` tokens refill continuously up to `burst`; each frame takes one. The
 * clock is injected so tests drive time. It sits beside transport/ and playground/ so that the
 * socket's frame rate and an entity kind's update rate share it without either importing the other
 * (docs/architecture.md).
 */
export class TokenBucket {
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(ratePerSec: number, burst: number, now: () => number = performance.now.bind(performance)) {
    this.ratePerMs = ratePerSec / 1000;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when the bucket is empty (the caller is over its rate). */
  take(): boolean {
    const t = this.now();
    const elapsed = t - this.last;
    this.last = t;
    if (elapsed > 0) this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
