import { Pool, type PoolClient, type QueryResult, TypeOverrides } from 'pg';
import type { SqlDb, SqlExecutor, SqlValue, TransactionOptions } from '../sql-db.ts';

export interface PgDbOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long a statement waits for a lock (row or advisory) before failing; 0 waits forever. */
  lockTimeoutMs?: number;
  /** How long a caller waits for a pooled connection (or a new one) before failing. */
  connectTimeoutMs?: number;
  /** Called with errors of idle pooled connections (the server went away); they are discarded. */
  onIdleError?: (err: Error) => void;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * BIGINT columns hold epoch milliseconds and counts; COUNT(*) and SUM(bigint) are int8/numeric. The
 * SqlDb contract returns them as JS numbers on both engines, and a value past 2^53 would silently
 * lose precision, so it fails loudly instead.
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} is outside the safe integer range`);
  return n;
}

/** Per-pool parsers: the `pg` module's global parsers stay untouched for other users of `pg`. */
function sqlDbTypes(): TypeOverrides {
  const types = new TypeOverrides();
  types.setTypeParser(INT8_OID, 'text', parseInt8);
  types.setTypeParser(NUMERIC_OID, 'text', Number);
  return types;
}

/**
 * Rewrites `?` placeholders to `$1…$n`. Every `?` counts: SqlDb statements never carry a literal
 * `?` (sql-db.ts), so no SQL parsing is needed.
 */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** node:sqlite takes Uint8Array for blobs; pg wants Buffer views, which share the same bytes. */
function toPgParams(params: readonly SqlValue[]): unknown[] {
  return params.map((v) =>
    v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v,
  );
}

type Queryable = Pick<PoolClient, 'query'>;

function executor(target: Queryable): SqlExecutor {
  const query = (sql: string, params: readonly SqlValue[]): Promise<QueryResult> =>
    target.query(toPgPlaceholders(sql), toPgParams(params));
  return {
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await query(sql, params)).rows as T[];
    },
    async get<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await query(sql, params)).rows[0] as T | undefined;
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return { changes: (await query(sql, params)).rowCount ?? 0 };
    },
    async exec(script: string) {
      // No parameters: the simple query protocol, which accepts several statements.
      await target.query(script);
    },
  };
}

/**
 * SqlDb over PostgreSQL through a `pg` connection pool. Statements outside a transaction take any
 * pooled connection; a transaction holds one connection from BEGIN to COMMIT or ROLLBACK. A commit is
 * acknowledged once PostgreSQL has flushed it to its WAL (`synchronous_commit` on, the default).
 */
export class PgDb implements SqlDb {
  readonly engine = 'postgres';
  readonly #pool: Pool;
  readonly #executor: SqlExecutor;
  #closing: Promise<void> | undefined;

  constructor(url: string, options: PgDbOptions = {}) {
    this.#pool = new Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      ...(options.lockTimeoutMs ? { lock_timeout: options.lockTimeoutMs } : {}),
      types: sqlDbTypes(),
    });
    // Without a listener, an idle connection's error (server restart) would crash the process.
    this.#pool.on('error', (err) => options.onIdleError?.(err));
    this.#executor = executor(this.#pool);
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#executor.all<T>(sql, params);
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.#executor.get<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.#executor.run(sql, params);
  }

  exec(script: string): Promise<void> {
    return this.#executor.exec(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const client = await this.#pool.connect();
    let done = false;
    const inner = executor(client);
    // A straggling statement after COMMIT would run on a connection already lent to someone else.
    const open = () => {
      if (done) throw new Error('transaction already finished');
    };
    const tx: SqlExecutor = {
      all: async <R>(sql: string, params?: readonly SqlValue[]) => {
        open();
        return inner.all<R>(sql, params);
      },
      get: async <R>(sql: string, params?: readonly SqlValue[]) => {
        open();
        return inner.get<R>(sql, params);
      },
      run: async (sql: string, params?: readonly SqlValue[]) => {
        open();
        return inner.run(sql, params);
      },
      exec: async (script: string) => {
        open();
        return inner.exec(script);
      },
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      if (options.lockKey !== undefined) {
        // Held until COMMIT/ROLLBACK; hashtextextended maps any key to the lock's bigint space.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [options.lockKey]);
      }
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable (e.g. the server went away): destroy it rather than reuse it.
        broken = rollbackError as Error;
      }
      throw err;
    } finally {
      done = true;
      client.release(broken);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }
}
