import { randomUUID } from 'node:crypto';
import type { AnalyticsEventInput, AnalyticsRecordParams } from '@plexus/protocol';
import type { AnalyticsRow, AnalyticsStore, EventCursor } from '../stores/analytics-store.ts';

export interface AnalyticsServiceOptions {
  store: AnalyticsStore;
  clock: () => number;
}

/** Largest `data` of one event, as JSON bytes. */
export const ANALYTICS_DATA_MAX_BYTES = 2048;
/** Longest range of a summary (31 days) and of an export (366 days). */
export const SUMMARY_MAX_RANGE_MS = 31 * 86_400_000;
export const EXPORT_MAX_RANGE_MS = 366 * 86_400_000;
/** Most buckets in a summary's series. */
export const SUMMARY_MAX_BUCKETS = 1000;
/** Most events one export streams (default and ceiling). */
export const EXPORT_DEFAULT_LIMIT = 100_000;
export const EXPORT_MAX_LIMIT = 1_000_000;
/** Rows per table in a summary: the busiest playgrounds, the commonest reasons. */
const SUMMARY_MAX_PLAYGROUNDS = 1000;
const SUMMARY_MAX_REASONS = 100;
/** Rows read per query while streaming. */
const PAGE_ROWS = 1000;
const POPULATION_PAGE_ROWS = 5000;

export interface AnalyticsSummary {
  from: number;
  to: number;
  bucketMs: number;
  /** One point per bucket, `at` its start: the sum over playgrounds of their last population sample in it. */
  concurrentUsers: { at: number; users: number }[];
  /** The busiest playgrounds by joins (then by leaves), at most 1000. */
  playgrounds: { playgroundId: string; joins: number; leaves: number; avgSessionMs: number | null }[];
  /** Refused joins per reason (null: refused without a reason), most first, at most 100. */
  refusals: { reason: string | null; count: number }[];
}

/**
 * Analytics: an append-only event log that every component feeds (servers in batches through their
 * balancer, the backend itself for logins), read back by operators as summaries or raw NDJSON.
 */
export class AnalyticsService {
  readonly #o: AnalyticsServiceOptions;

  constructor(options: AnalyticsServiceOptions) {
    this.#o = options;
  }

  /**
   * Appends a validated batch in one transaction. A batch's `serverId` (set by the balancer from the
   * server's registration) wins over the events' own.
   */
  async record(params: AnalyticsRecordParams): Promise<{ accepted: number }> {
    const recordedAt = this.#o.clock();
    await this.#o.store.append(params.events.map((e) => toRow(e, params.serverId, recordedAt)));
    return { accepted: params.events.length };
  }

  async summary(query: { from: number; to: number; bucketMs: number }): Promise<AnalyticsSummary> {
    const { from, to, bucketMs } = query;
    const { store } = this.#o;
    const [joins, sessions, refusals, concurrentUsers] = await Promise.all([
      store.joinsByPlayground(from, to, SUMMARY_MAX_PLAYGROUNDS),
      store.sessionsByPlayground(from, to, SUMMARY_MAX_PLAYGROUNDS),
      store.refusalsByReason(from, to, SUMMARY_MAX_REASONS),
      this.#concurrentUsers(from, to, bucketMs),
    ]);
    const byPlayground = new Map<string, AnalyticsSummary['playgrounds'][number]>();
    for (const j of joins) {
      byPlayground.set(j.playgroundId, {
        playgroundId: j.playgroundId,
        joins: j.joins,
        leaves: 0,
        avgSessionMs: null,
      });
    }
    for (const s of sessions) {
      const row = byPlayground.get(s.playgroundId) ?? {
        playgroundId: s.playgroundId,
        joins: 0,
        leaves: 0,
        avgSessionMs: null,
      };
      row.leaves = s.leaves;
      row.avgSessionMs = Math.round(s.totalSessionMs / s.leaves);
      byPlayground.set(s.playgroundId, row);
    }
    const playgrounds = [...byPlayground.values()]
      .sort(
        (a, b) => b.joins - a.joins || b.leaves - a.leaves || a.playgroundId.localeCompare(b.playgroundId),
      )
      .slice(0, SUMMARY_MAX_PLAYGROUNDS);
    return { from, to, bucketMs, concurrentUsers, playgrounds, refusals };
  }

  /**
   * NDJSON lines (with their newline) of the events with from ≤ at < to, oldest first, read page by
   * page so a long range is never held in memory.
   */
  async *export(query: {
    from: number;
    to: number;
    types?: readonly string[] | undefined;
    limit: number;
  }): AsyncGenerator<string> {
    let after: EventCursor | undefined;
    let left = query.limit;
    while (left > 0) {
      const page = await this.#o.store.page({ ...query, after, limit: Math.min(PAGE_ROWS, left) });
      for (const row of page) yield `${JSON.stringify(toExport(row))}\n`;
      left -= page.length;
      const last = page.at(-1);
      if (!last || page.length < PAGE_ROWS) return;
      after = { at: last.at, id: last.id };
    }
  }

  /** Walks the population samples in time order, keeping only the current bucket's last value per playground. */
  async #concurrentUsers(
    from: number,
    to: number,
    bucketMs: number,
  ): Promise<AnalyticsSummary['concurrentUsers']> {
    const buckets = Math.ceil((to - from) / bucketMs);
    const users = new Array<number>(buckets).fill(0);
    let bucket = -1;
    const last = new Map<string, number>();
    const close = () => {
      if (bucket >= 0) users[bucket] = [...last.values()].reduce((sum, n) => sum + n, 0);
      last.clear();
    };
    let after: EventCursor | undefined;
    for (;;) {
      const page = await this.#o.store.populationPage(from, to, after, POPULATION_PAGE_ROWS);
      for (const sample of page) {
        const b = Math.floor((sample.at - from) / bucketMs);
        if (b !== bucket) {
          close();
          bucket = b;
        }
        last.set(sample.playgroundId, sample.players);
      }
      const end = page.at(-1);
      if (!end || page.length < POPULATION_PAGE_ROWS) break;
      after = { at: end.at, id: end.id };
    }
    close();
    return users.map((n, i) => ({ at: from + i * bucketMs, users: n }));
  }
}

/** The stored form of an event: data serialised, the fields summaries aggregate copied out. */
export function toRow(
  event: AnalyticsEventInput,
  batchServerId: string | undefined,
  recordedAt: number,
): AnalyticsRow {
  const data = event.data;
  const players = event.type === 'population' ? data?.players : undefined;
  const sessionMs = event.type === 'leave' ? data?.sessionMs : undefined;
  const reason = event.type === 'refused' ? data?.reason : undefined;
  return {
    id: randomUUID(),
    type: event.type,
    at: event.at,
    userId: event.userId ?? null,
    playgroundId: event.playgroundId ?? null,
    serverId: batchServerId ?? event.serverId ?? null,
    players: typeof players === 'number' ? players : null,
    sessionMs: typeof sessionMs === 'number' ? sessionMs : null,
    reason: typeof reason === 'string' ? reason : null,
    data: data === undefined ? null : JSON.stringify(data),
    recordedAt,
  };
}

function toExport(row: AnalyticsRow) {
  return {
    id: row.id,
    type: row.type,
    at: row.at,
    userId: row.userId,
    playgroundId: row.playgroundId,
    serverId: row.serverId,
    data: row.data === null ? null : (JSON.parse(row.data) as unknown),
    recordedAt: row.recordedAt,
  };
}
