/** Timer functions, injectable so tests can drive ticks by hand. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realScheduler: Scheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A fixed-step loop: ticks are scheduled against start + n × period, so a slow tick shortens the
 * next wait instead of drifting. If the loop falls more than a few ticks behind it skips ahead
 * rather than bursting to catch up.
 */
export class TickLoop {
  private readonly periodMs: number;
  private readonly onTick: () => void;
  private readonly now: () => number;
  private readonly scheduler: Scheduler;
  private handle: unknown = null;
  private next = 0;
  private running = false;

  constructor(
    tickRateHz: number,
    onTick: () => void,
    now: () => number,
    scheduler: Scheduler = realScheduler,
  ) {
    this.periodMs = 1000 / tickRateHz;
    this.onTick = onTick;
    this.now = now;
    this.scheduler = scheduler;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.next = this.now() + this.periodMs;
    this.schedule();
  }

  private schedule(): void {
    const delay = Math.max(0, this.next - this.now());
    this.handle = this.scheduler.setTimeout(() => this.run(), delay);
  }

  private run(): void {
    if (!this.running) return;
    this.onTick();
    this.next += this.periodMs;
    const now = this.now();
    if (now - this.next > 5 * this.periodMs) this.next = now + this.periodMs;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.handle !== null) this.scheduler.clearTimeout(this.handle);
    this.handle = null;
  }
}
