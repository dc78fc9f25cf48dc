import { placeholders, type SqlDb, type SqlValue } from '../storage/sql-db.ts';

/** An event as stored: `data` is already serialised; players/sessionMs/reason are copied out of it. */
export interface AnalyticsRow {
  id: string;
  type: string;
  at: number;
  userId: string | null;
  playgroundId: string | null;
  serverId: string | null;
  players: number | null;
  sessionMs: number | null;
  reason: string | null;
  /** JSON object text, or null. */
  data: string | null;
  recordedAt: number;
}

interface EventRow {
  id: string;
  type: string;
  at: number;
  user_id: string | null;
  playground_id: string | null;
  server_id: string | null;
  players: number | null;
  session_ms: number | null;
  reason: string | null;
  data: string | null;
  recorded_at: number;
}

/** Rows per multi-row INSERT: 11 columns × 100 stays far below both engines' parameter limits. */
const INSERT_CHUNK = 100;
const COLUMNS =
  'id, type, at, user_id, playground_id, server_id, players, session_ms, reason, data, recorded_at';

/** Keyset position in (at, id) order. */
export interface EventCursor {
  at: number;
  id: string;
}

export interface RangeQuery {
  from: number;
  to: number;
  types?: readonly string[] | undefined;
  after?: EventCursor | undefined;
  limit: number;
}

export interface PlaygroundJoins {
  playgroundId: string;
  joins: number;
}

export interface PlaygroundSessions {
  playgroundId: string;
  leaves: number;
  totalSessionMs: number;
}

/** The append-only event log: inserts and range reads, never an update or a delete. */
export class AnalyticsStore {
  readonly #db: SqlDb;

  constructor(db: SqlDb) {
    this.#db = db;
  }

  /** Appends the batch in one transaction: all of it or nothing. */
  async append(rows: readonly AnalyticsRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#db.transaction(async (tx) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        const values: SqlValue[] = [];
        for (const r of chunk) {
          values.push(
            r.id,
            r.type,
            r.at,
            r.userId,
            r.playgroundId,
            r.serverId,
            r.players,
            r.sessionMs,
            r.reason,
            r.data,
            r.recordedAt,
          );
        }
        const tuples = chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
        await tx.run(`INSERT INTO analytics_events (${COLUMNS}) VALUES ${tuples}`, values);
      }
    });
  }

  /** One page of events with from ≤ at < to, in (at, id) order, after the cursor. */
  async page(query: RangeQuery): Promise<AnalyticsRow[]> {
    const where = ['at >= ?', 'at < ?'];
    const values: SqlValue[] = [query.from, query.to];
    if (query.types && query.types.length > 0) {
      where.push(`type IN (${placeholders(query.types)})`);
      values.push(...query.types);
    }
    if (query.after) {
      where.push('(at > ? OR (at = ? AND id > ?))');
      values.push(query.after.at, query.after.at, query.after.id);
    }
    const rows = await this.#db.all<EventRow>(
      `SELECT ${COLUMNS} FROM analytics_events WHERE ${where.join(' AND ')} ORDER BY at, id LIMIT ?`,
      [...values, query.limit],
    );
    return rows.map(toRow);
  }

  /** Joins per playground in the range, most first. */
  async joinsByPlayground(from: number, to: number, limit: number): Promise<PlaygroundJoins[]> {
    const rows = await this.#db.all<{ playground_id: string; n: number }>(
      `SELECT playground_id, COUNT(*) AS n FROM analytics_events
        WHERE type = 'join' AND at >= ? AND at < ? AND playground_id IS NOT NULL
        GROUP BY playground_id
        ORDER BY COUNT(*) DESC, playground_id
        LIMIT ?`,
      [from, to, limit],
    );
    return rows.map((r) => ({ playgroundId: r.playground_id, joins: Number(r.n) }));
  }

  /** Leaves carrying a session length, and their total, per playground in the range. */
  async sessionsByPlayground(from: number, to: number, limit: number): Promise<PlaygroundSessions[]> {
    const rows = await this.#db.all<{ playground_id: string; n: number; total: number }>(
      `SELECT playground_id, COUNT(*) AS n, CAST(SUM(session_ms) AS BIGINT) AS total FROM analytics_events
        WHERE type = 'leave' AND at >= ? AND at < ? AND playground_id IS NOT NULL AND session_ms IS NOT NULL
        GROUP BY playground_id
        ORDER BY COUNT(*) DESC, playground_id
        LIMIT ?`,
      [from, to, limit],
    );
    return rows.map((r) => ({
      playgroundId: r.playground_id,
      leaves: Number(r.n),
      totalSessionMs: Number(r.total),
    }));
  }

  /**
   * Refused joins per reason in the range, most first (ties by reason, null last: the engines sort
   * NULL differently, so the order is settled here); a refusal without a reason counts under null.
   */
  async refusalsByReason(
    from: number,
    to: number,
    limit: number,
  ): Promise<{ reason: string | null; count: number }[]> {
    const rows = await this.#db.all<{ reason: string | null; n: number }>(
      `SELECT reason, COUNT(*) AS n FROM analytics_events
        WHERE type = 'refused' AND at >= ? AND at < ?
        GROUP BY reason
        ORDER BY COUNT(*) DESC, reason
        LIMIT ?`,
      [from, to, limit],
    );
    return rows
      .map((r) => ({ reason: r.reason, count: Number(r.n) }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          (a.reason === null
            ? 1
            : b.reason === null
              ? -1
              : a.reason < b.reason
                ? -1
                : a.reason > b.reason
                  ? 1
                  : 0),
      );
  }

  /** A page of population samples (playground, time, players) in (at, id) order. */
  async populationPage(
    from: number,
    to: number,
    after: EventCursor | undefined,
    limit: number,
  ): Promise<{ id: string; at: number; playgroundId: string; players: number }[]> {
    const where = [
      "type = 'population'",
      'at >= ?',
      'at < ?',
      'playground_id IS NOT NULL',
      'players IS NOT NULL',
    ];
    const values: SqlValue[] = [from, to];
    if (after) {
      where.push('(at > ? OR (at = ? AND id > ?))');
      values.push(after.at, after.at, after.id);
    }
    const rows = await this.#db.all<{ id: string; at: number; playground_id: string; players: number }>(
      `SELECT id, at, playground_id, players FROM analytics_events
        WHERE ${where.join(' AND ')} ORDER BY at, id LIMIT ?`,
      [...values, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      at: Number(r.at),
      playgroundId: r.playground_id,
      players: Number(r.players),
    }));
  }
}

function toRow(r: EventRow): AnalyticsRow {
  return {
    id: r.id,
    type: r.type,
    at: Number(r.at),
    userId: r.user_id,
    playgroundId: r.playground_id,
    serverId: r.server_id,
    players: r.players === null ? null : Number(r.players),
    sessionMs: r.session_ms === null ? null : Number(r.session_ms),
    reason: r.reason,
    data: r.data,
    recordedAt: Number(r.recorded_at),
  };
}
