import { randomBytes } from 'node:crypto';
import { AppError, type Logger } from '@plexus/kit';
import {
  EVENT_MAX_PAYLOAD_BYTES,
  type EventSender,
  type EventsPublishResult,
  type EventTarget,
  type PlexusEventEnvelope,
} from '@plexus/protocol';
import type { SqlDb } from '../storage/sql-db.ts';
import { putInboxEvent } from '../stores/event-inbox-store.ts';
import { isPresent } from '../stores/presence-store.ts';
import type { ContinuityMetrics } from './continuity-metrics.ts';
import { userLockKey } from './player-service.ts';

/** Stored events kept per offline user; the oldest are dropped beyond it. */
export const INBOX_MAX_PER_USER = 100;
/** Publishes of one sender waiting behind each other; beyond it the sender is refused (429). */
export const MAX_PENDING_PER_SENDER = 1000;

/** Where live events go: every connected balancer (routes/event-stream.ts). */
export interface EventSink {
  broadcast(event: PlexusEventEnvelope): void;
}

export interface EventServiceOptions {
  db: SqlDb;
  sink: EventSink;
  clock: () => number;
  /** How long a stored event waits for its user's next join. */
  inboxTtlMs: number;
  /** A user whose presence was refreshed within this window is online (live delivery). */
  presenceTtlMs: number;
  metrics: ContinuityMetrics;
  logger: Logger;
}

export interface PublishInput {
  target: EventTarget;
  type: string;
  payload: unknown;
}

interface SenderQueue {
  tail: Promise<unknown>;
  pending: number;
}

/**
 * Cross-server messages and global events. A user target goes live when the user's presence is
 * fresh, else into their inbox (taken on their next join); playground and all targets go live only.
 * Live means pushed to every connected balancer, at most once. Publishes of one sender are handled
 * one after the other, so the balancers receive them in the order the backend accepted them.
 */
export class EventService {
  readonly #o: EventServiceOptions;
  readonly #senders = new Map<string, SenderQueue>();

  constructor(options: EventServiceOptions) {
    this.#o = options;
  }

  /**
   * Accepts an event. Everything before the first await runs at call time, so calls of one sender
   * are queued in call order.
   */
  async publish(from: EventSender, input: PublishInput): Promise<EventsPublishResult> {
    const bytes = Buffer.byteLength(JSON.stringify(input.payload ?? null), 'utf8');
    if (bytes > EVENT_MAX_PAYLOAD_BYTES) {
      throw new AppError(
        'EVENT_TOO_LARGE',
        `The payload is ${bytes} bytes of JSON; the limit is ${EVENT_MAX_PAYLOAD_BYTES}`,
      );
    }
    const key = from.kind === 'operator' ? 'operator' : `server:${from.serverId}`;
    const queue = this.#senders.get(key) ?? { tail: Promise.resolve(), pending: 0 };
    if (queue.pending >= MAX_PENDING_PER_SENDER) {
      throw new AppError(
        'COMMON_RATE_LIMITED',
        `Too many events of this sender in flight (${queue.pending})`,
      );
    }
    const run = queue.tail.then(() => this.#accept(from, input));
    queue.pending += 1;
    // The chain must go on after a failure; the caller sees the failure through `run`.
    queue.tail = run.catch(() => undefined);
    this.#senders.set(key, queue);
    void queue.tail.then(() => {
      queue.pending -= 1;
      if (queue.pending === 0 && this.#senders.get(key) === queue) this.#senders.delete(key);
    });
    return run;
  }

  async #accept(from: EventSender, input: PublishInput): Promise<EventsPublishResult> {
    const { clock, sink, metrics } = this.#o;
    const event: PlexusEventEnvelope = {
      id: `ev_${randomBytes(16).toString('base64url')}`,
      target: input.target,
      type: input.type,
      payload: input.payload ?? null,
      from,
      at: clock(),
    };
    const delivery = 'userId' in input.target ? await this.#liveOrStore(input.target.userId, event) : 'live';
    if (delivery === 'live') sink.broadcast(event);
    metrics.eventsPublished.inc({ delivery });
    // A server hands the answer on to users (a whisper's `whisper.sent`): to them an incognito user
    // is never seen online, so "live" is reported as "stored" (docs/api.md, events.publish).
    if (delivery === 'live' && from.kind === 'server' && 'userId' in input.target) {
      if (await this.#incognito(input.target.userId)) return { id: event.id, delivery: 'stored' };
    }
    return { id: event.id, delivery };
  }

  async #incognito(userId: string): Promise<boolean> {
    const row = await this.#o.db.get<{ privacy_mode: number }>(
      'SELECT privacy_mode FROM users WHERE id = ?',
      [userId],
    );
    return row !== undefined && Number(row.privacy_mode) !== 0;
  }

  /**
   * Decides live vs stored and stores, in a transaction locked like players.join: a join either
   * sees the stored event or has made the user present before the decision.
   */
  #liveOrStore(userId: string, event: PlexusEventEnvelope): Promise<'live' | 'stored'> {
    const { db, inboxTtlMs, presenceTtlMs, metrics, logger } = this.#o;
    return db.transaction(
      async (tx) => {
        if (await isPresent(tx, userId, event.at - presenceTtlMs)) return 'live';
        const dropped = await putInboxEvent(tx, userId, event, event.at + inboxTtlMs, INBOX_MAX_PER_USER);
        if (dropped > 0) {
          metrics.inboxDropped.inc(dropped);
          logger.warn({ userId, dropped }, 'inbox full: oldest stored events dropped');
        }
        return 'stored';
      },
      { lockKey: userLockKey(userId) },
    );
  }
}
