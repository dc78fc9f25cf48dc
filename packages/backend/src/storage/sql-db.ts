/**
 * The engine-neutral SQL connection every store is written against, so one store serves SQLite and
 * PostgreSQL alike. SQL uses `?` placeholders (the PostgreSQL driver rewrites them to `$n`) and the
 * common dialect of both engines: TEXT, INTEGER, BIGINT, `INSERT … ON CONFLICT … DO UPDATE`,
 * `RETURNING`. Booleans are stored as 0/1 integers, JSON as TEXT, times as epoch-millisecond BIGINTs
 * (both drivers return them as JS numbers).
 */
export type SqlValue = string | number | bigint | null | Uint8Array;

export interface SqlExecutor {
  /** Every row of a query. */
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement; `changes` is the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
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
   * rolled back when it rejects. Only use `tx` inside `fn`.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}
