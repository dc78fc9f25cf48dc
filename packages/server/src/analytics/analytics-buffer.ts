import type { Logger } from '@plexus/kit';
import { ANALYTICS_MAX_BATCH, type AnalyticsEventInput } from '@plexus/protocol';
import type { ControlRpc } from '../control/control-rpc.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { PlaygroundHost } from '../playground/playground-host.ts';

export interface AnalyticsBufferOptions {
  rpc: ControlRpc;
  host: PlaygroundHost;
  serverId: string;
  wallClock: () => number;
  logger: Logger;
  metrics: ServerMetrics;
  flushIntervalMs?: number;
  populationIntervalMs?: number;
  /** Events kept while no balancer is up; beyond, the oldest are dropped (and counted). */
  maxBuffered?: number;
}

/** A batch goes out at once when this many events are waiting (else at the next interval). */
const FLUSH_AT = 200;
const RECORD_TIMEOUT_MS = 5_000;

/**
 * The server's analytics events (join, leave with session length, population samples, refused
 * joins, logic errors), batched to `analytics.record` every second or every 200 events, one batch
 * in flight. Recording is an array push: nothing here ever waits on the tick's path.
 */
export class AnalyticsBuffer {
  private readonly options: AnalyticsBufferOptions;
  private buffer: AnalyticsEventInput[] = [];
  /** `playgroundId\thook` → logic failures since the last flush (one event each, with the count). */
  private readonly errors = new Map<string, number>();
  private sending = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(options: AnalyticsBufferOptions) {
    this.options = options;
  }

  start(): void {
    this.timers.push(setInterval(() => void this.flush(), this.options.flushIntervalMs ?? 1_000));
    this.timers.push(setInterval(() => this.samplePopulation(), this.options.populationIntervalMs ?? 10_000));
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** Events waiting to be sent. */
  get size(): number {
    return this.buffer.length;
  }

  record(event: AnalyticsEventInput): void {
    const max = this.options.maxBuffered ?? 10_000;
    if (this.buffer.length >= max) {
      this.buffer.shift();
      this.options.metrics.analyticsDropped.inc();
    }
    this.buffer.push({ serverId: this.options.serverId, ...event });
    if (this.buffer.length >= FLUSH_AT) void this.flush();
  }

  /** A playground logic hook failed: counted, and recorded once per flush per hook. */
  logicError(playgroundId: string, hook: string): void {
    const key = `${playgroundId}\t${hook}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  samplePopulation(): void {
    const at = this.options.wallClock();
    for (const room of this.options.host.hostedRooms()) {
      this.record({
        type: 'population',
        at,
        playgroundId: room.playground.id,
        data: { players: room.members.size },
      });
    }
  }

  /** Sends one batch when a balancer is up and no batch is in flight. */
  async flush(): Promise<void> {
    const { rpc, metrics, serverId } = this.options;
    this.takeErrors();
    if (this.sending || this.buffer.length === 0 || !rpc.available) return;
    const batch = this.buffer.splice(0, ANALYTICS_MAX_BATCH);
    this.sending = true;
    try {
      await rpc.call('analytics.record', { serverId, events: batch }, { timeoutMs: RECORD_TIMEOUT_MS });
    } catch (err) {
      // Not retried: the batch may have been stored before the answer was lost.
      metrics.analyticsDropped.inc(batch.length);
      metrics.controlRpcErrors.inc({ method: 'analytics.record' });
      this.options.logger.debug(
        { err: (err as Error).message, events: batch.length },
        'analytics batch dropped',
      );
    } finally {
      this.sending = false;
    }
  }

  private takeErrors(): void {
    if (this.errors.size === 0) return;
    const at = this.options.wallClock();
    const counts = [...this.errors];
    this.errors.clear();
    for (const [key, count] of counts) {
      const [playgroundId, hook] = key.split('\t') as [string, string];
      this.record({ type: 'error', at, playgroundId, data: { hook, count } });
    }
  }
}
