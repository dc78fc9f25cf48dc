import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { SqlDb, SqlExecutor, SqlValue, TransactionOptions } from '../sql-db.ts';

export interface SqliteDbOptions {
  busyTimeoutMs?: number;
}

/**
 * SqlDb over Node's built-in `node:sqlite` (one synchronous connection). A transaction holds the
 * connection from BEGIN IMMEDIATE to COMMIT: statements from other callers wait for it, so an
 * asynchronous transaction body never sees, nor leaks into, another caller's work.
 */
export class SqliteDb implements SqlDb {
  readonly engine = 'sqlite';
  readonly file: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** Settles when the running transaction (if any) ends; callers queue behind it. */
  #idle: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(file: string, options: SqliteDbOptions = {}) {
    this.file = file;
    this.#db = new DatabaseSync(file);
    this.#db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5_000)}`);
    this.#db.exec('PRAGMA journal_mode = WAL');
    // FULL: a commit is on disk before the API acknowledges it (docs/api.md "Storage").
    this.#db.exec('PRAGMA synchronous = FULL');
    this.#db.exec('PRAGMA foreign_keys = ON');
  }

  /** Reads a PRAGMA value (tests and diagnostics). */
  pragma(name: 'journal_mode' | 'synchronous' | 'foreign_keys' | 'busy_timeout'): unknown {
    const row = this.#db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined;
    return row ? Object.values(row)[0] : undefined;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    await this.#idle;
    return this.#all<T>(sql, params);
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    await this.#idle;
    return this.#get<T>(sql, params);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    await this.#idle;
    return this.#run(sql, params);
  }

  async exec(script: string): Promise<void> {
    await this.#idle;
    this.#exec(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>, _options?: TransactionOptions): Promise<T> {
    // Take the connection: wait for the running transaction, then make later callers wait for ours.
    let release!: () => void;
    const previous = this.#idle;
    this.#idle = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    let done = false;
    // A straggling statement after COMMIT would run outside the transaction, unserialised.
    const open = () => {
      if (done) throw new Error('transaction already finished');
    };
    const tx: SqlExecutor = {
      all: async <R>(sql: string, params: readonly SqlValue[] = []) => {
        open();
        return this.#all<R>(sql, params);
      },
      get: async <R>(sql: string, params: readonly SqlValue[] = []) => {
        open();
        return this.#get<R>(sql, params);
      },
      run: async (sql: string, params: readonly SqlValue[] = []) => {
        open();
        return this.#run(sql, params);
      },
      exec: async (script: string) => {
        open();
        return this.#exec(script);
      },
    };
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(tx);
        this.#db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      done = true;
      release();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#idle;
    this.#closed = true;
    this.#statements.clear();
    this.#db.close();
  }

  #statement(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #exec(script: string): void {
    this.#db.exec(script);
    // A migration may have changed the schema under cached statements.
    this.#statements.clear();
  }

  #all<T>(sql: string, params: readonly SqlValue[]): T[] {
    return this.#statement(sql).all(...(params as SQLInputValue[])) as T[];
  }

  #get<T>(sql: string, params: readonly SqlValue[]): T | undefined {
    return this.#statement(sql).get(...(params as SQLInputValue[])) as T | undefined;
  }

  #run(sql: string, params: readonly SqlValue[]): { changes: number } {
    return { changes: Number(this.#statement(sql).run(...(params as SQLInputValue[])).changes) };
  }
}
