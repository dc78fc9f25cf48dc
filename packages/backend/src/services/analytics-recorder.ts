import type { Logger } from '@plexus/kit';
import type { AnalyticsEventInput } from '@plexus/protocol';

export interface AnalyticsRecorderOptions {
  /** Writes a batch (AnalyticsService.record). */
  sink: (events: AnalyticsEventInput[]) => Promise<unknown>;
  logger: Logger;
  /** A non-empty buffer is written at least this often. */
  flushIntervalMs?: number;
  /** A buffer this full is written at once. */
  flushAtEvents?: number;
  /** Events beyond this many waiting are dropped (and counted) rather than grow memory. */
  maxBuffered?: number;
}

/**
 * The backend's own analytics (logins): `record` only appends to a bounded buffer, so the request
 * that caused the event never waits for the database; batches are written every `flushIntervalMs`
 * or once `flushAtEvents` are waiting, one at a time. A failed batch is logged and dropped.
 */
export class AnalyticsRecorder {
  readonly #o: Required<Omit<AnalyticsRecorderOptions, 'logger' | 'sink'>> & AnalyticsRecorderOptions;
  #buffer: AnalyticsEventInput[] = [];
  #dropped = 0;
  /** The write under way (writes never overlap). */
  #writing: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: AnalyticsRecorderOptions) {
    this.#o = { flushIntervalMs: 500, flushAtEvents: 200, maxBuffered: 10_000, ...options };
    this.#timer = setInterval(() => void this.flush(), this.#o.flushIntervalMs);
    this.#timer.unref();
  }

  record(event: AnalyticsEventInput): void {
    if (this.#closed) return;
    if (this.#buffer.length >= this.#o.maxBuffered) {
      this.#dropped++;
      return;
    }
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#o.flushAtEvents) void this.flush();
  }

  /** Writes what is buffered now; resolves when it (and any earlier write) is done. */
  flush(): Promise<void> {
    if (this.#dropped > 0) {
      this.#o.logger.warn({ dropped: this.#dropped }, 'analytics buffer full: events dropped');
      this.#dropped = 0;
    }
    if (this.#buffer.length === 0) return this.#writing;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#writing = this.#writing.then(() =>
      this.#o.sink(batch).then(
        () => undefined,
        (err: unknown) => this.#o.logger.warn({ err, events: batch.length }, 'analytics batch not written'),
      ),
    );
    return this.#writing;
  }

  /** Stops the timer and writes the rest; later events are ignored. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
  }
}
