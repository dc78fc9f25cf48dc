/**
 * The engine-neutral SQL connection every store is written against, so one store serves SQLite and
 * PostgreSQL alike. SQL uses `?` placeholders and the common dialect of both engines: TEXT,
 * INTEGER, BIGINT, `INSERT … ON CONFLICT … DO UPDATE`, `RETURNING`. Booleans are stored as 0/1
 * integers, JSON as TEXT, times as epoch-millisecond BIGINTs (both drivers return BIGINT, COUNT,
 * SUM and AVG results as JS numbers). Where the engines differ, avoid relying on either: `LIKE`
 * ignores ASCII case on SQLite only (compare `lower(x)`), text ORDER BY follows the database's
 * collation on PostgreSQL (order by ids or numbers where the order matters), a comparison selected
 * as a column is a boolean on PostgreSQL but 0/1 on SQLite (use `CASE WHEN … THEN 1 ELSE 0 END`),
 * and SQLite rows have a null prototype (map them to records).
 *
 * PgDb rewrites every `?` of a statement to `$1…$n` without parsing SQL, so a `?` must not appear
 * anywhere else in a statement given to all/get/run (string literals, comments, jsonb `?`
 * operators); pass such text as a parameter instead.
 */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** `?, ?, …`: one placeholder per value, for `IN (…)` lists (callers handle an empty list). */
export function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

export interface SqlExecutor {
  /** Every row of a query. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement; `changes` is the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /**
   * Runs a script of several statements without parameters (migrations). No `?` rewriting: the
   * script goes to the engine as written.
   */
  exec(script: string): Promise<void>;
}

export interface TransactionOptions {
  /**
   * Serialises transactions that pass the same key (PostgreSQL: a transaction-scoped advisory lock;
   * SQLite: every write transaction is already serial). Use it for read-then-write decisions that
   * must not interleave, e.g. seat assignment in one playground type.
   */
  lockKey?: string;
}

export interface SqlDb extends SqlExecutor {
  readonly engine: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one write transaction on one connection: committed when its promise resolves,
   * rolled back when it rejects. Only use `tx` inside `fn`. PostgreSQL runs it at READ COMMITTED:
   * a read-then-write decision that must not interleave with another transaction's needs `lockKey`
   * (or a single conditional statement such as `UPDATE … WHERE version < ?`). A failed statement
   * aborts a PostgreSQL transaction (later statements fail until ROLLBACK), so do not catch an error
   * inside `fn` and carry on: use `INSERT … ON CONFLICT DO NOTHING` and check `changes` instead.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}
