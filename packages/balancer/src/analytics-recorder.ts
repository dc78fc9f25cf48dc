import type { AnalyticsEventInput } from '@plexus/protocol';
import type { Logger } from 'pino';
import type { BackendClient } from './backend-client.ts';

export interface AnalyticsRecorderOptions {
  backend: Pick<BackendClient, 'partnerRpc'>;
  logger: Logger;
  /** Called with the number of events dropped (buffer full, or a batch the backend did not take). */
  onDropped?: (count: number) => void;
  flushIntervalMs?: number;
  /** A batch is sent as soon as this many events wait. */
  batchSize?: number;
  /** Events kept while the backend is slow or down; newer ones are dropped beyond it. */
  maxBuffered?: number;
}

/**
 * The balancer's own analytics events (refused joins), sent to the backend's `analytics.record` in
 * batches — every `flushIntervalMs` or once `batchSize` wait — with one send in flight at a time.
 * Recording never blocks or fails a request: the buffer is bounded and a failed batch is dropped.
 */
export class AnalyticsRecorder {
  readonly #o: Required<Omit<AnalyticsRecorderOptions, 'onDropped'>> &
    Pick<AnalyticsRecorderOptions, 'onDropped'>;
  #buffer: AnalyticsEventInput[] = [];
  #sending: Promise<void> | undefined;
  #failing = false;
  readonly #timer: NodeJS.Timeout;

  constructor(options: AnalyticsRecorderOptions) {
    this.#o = { flushIntervalMs: 1_000, batchSize: 100, maxBuffered: 5_000, ...options };
    this.#timer = setInterval(() => void this.flush(), this.#o.flushIntervalMs);
    this.#timer.unref();
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  record(event: AnalyticsEventInput): void {
    if (this.#buffer.length >= this.#o.maxBuffered) {
      this.#o.onDropped?.(1);
      return;
    }
    this.#buffer.push(event);
    if (this.#buffer.length >= this.#o.batchSize) void this.flush();
  }

  /** Sends what is buffered, one batch after another; resolves when the buffer is empty or a send failed. */
  flush(): Promise<void> {
    this.#sending ??= this.#drain().finally(() => {
      this.#sending = undefined;
    });
    return this.#sending;
  }

  /** Stops the timer and sends what is left (bounded by the backend timeout); what cannot be sent is dropped. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
    if (this.#buffer.length > 0) {
      this.#o.onDropped?.(this.#buffer.length);
      this.#buffer = [];
    }
  }

  async #drain(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#o.batchSize);
      const outcome = await this.#o.backend.partnerRpc('analytics.record', { events: batch });
      if (!outcome.ok) {
        this.#o.onDropped?.(batch.length);
        if (!this.#failing) {
          this.#o.logger.warn(
            { error: outcome.error, dropped: batch.length },
            'analytics batch not recorded',
          );
        }
        this.#failing = true;
        return;
      }
      if (this.#failing) this.#o.logger.info('analytics recorded again');
      this.#failing = false;
    }
  }
}
