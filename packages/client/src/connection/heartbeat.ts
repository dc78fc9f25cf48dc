/** Options of {@link Heartbeat}. */
export interface HeartbeatOptions {
  /** Interval of PINGs, ms. */
  pingIntervalMs: number;
  /** A PING followed by nothing at all for this long means a dead link, ms (0: never). */
  livenessTimeoutMs: number;
  now: () => number;
  /** Sends one PING; false when it could not be sent. */
  sendPing: () => boolean;
  /** The link is dead: nothing arrived for `silentMs` since a PING. Called once per start. */
  onDead: (silentMs: number) => void;
}

/**
 * The PINGs of one connection and its liveness: a PING every `pingIntervalMs` (the server answers
 * each at once), and when nothing at all arrives for `livenessTimeoutMs` after a PING, the link is
 * declared dead. Measured from the PING, not from the last frame, so that timers throttled in a
 * background tab (pings going out late) cannot fake a dead link.
 */
export class Heartbeat {
  private readonly options: HeartbeatOptions;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private checkTimer: ReturnType<typeof setInterval> | undefined;
  /** When the oldest PING not followed by any frame was sent (undefined: something arrived since). */
  private silentSince: number | undefined;
  private sent = 0;
  /** When the last frame arrived. */
  lastFrameAt = 0;

  constructor(options: HeartbeatOptions) {
    this.options = options;
  }

  /** Starts on a new connection: PING counts from 0, a first PING at once. */
  start(): void {
    this.stop();
    this.sent = 0;
    this.silentSince = undefined;
    this.lastFrameAt = this.options.now();
    this.ping();
    this.pingTimer = setInterval(() => this.ping(), this.options.pingIntervalMs);
    const timeoutMs = this.options.livenessTimeoutMs;
    if (timeoutMs > 0) {
      this.checkTimer = setInterval(() => this.check(timeoutMs), Math.min(1000, Math.max(50, timeoutMs / 4)));
    }
  }

  stop(): void {
    clearInterval(this.pingTimer);
    clearInterval(this.checkTimer);
    this.pingTimer = undefined;
    this.checkTimer = undefined;
  }

  /** Sends a PING now; returns its ordinal on this connection (PONGs come back in order). */
  ping(): number {
    if (this.options.sendPing()) {
      this.sent++;
      this.silentSince ??= this.options.now();
    }
    return this.sent;
  }

  /** A frame arrived: the link is alive. */
  received(): void {
    this.silentSince = undefined;
    this.lastFrameAt = this.options.now();
  }

  private check(timeoutMs: number): void {
    if (this.silentSince === undefined) return;
    const silentMs = this.options.now() - this.silentSince;
    if (silentMs < timeoutMs) return;
    this.stop();
    this.options.onDead(silentMs);
  }
}
