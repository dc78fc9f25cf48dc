import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@plexus/kit';
import type { BackendConfig } from '../config.ts';
import { PgDb } from './postgres/pg-db.ts';
import type { SqlDb } from './sql-db.ts';
import { SqlRepository } from './sql-repository.ts';
import { SqliteDb } from './sqlite/sqlite-db.ts';

/** File name of the SQLite database inside the data directory. */
export const DATABASE_FILE = 'plexus.db';

export type StorageConfig = Pick<BackendConfig, 'dataDir' | 'databaseUrl' | 'dbBusyTimeoutMs' | 'dbPoolSize'>;

export interface OpenedStorage {
  /** The connection every store shares (closed by `repo.close()`). */
  db: SqlDb;
  repo: SqlRepository;
}

/** Opens (creating if needed) `<dataDir>/plexus.db` with WAL, synchronous=FULL and foreign keys. */
export function openSqliteDb(dataDir: string, options: { busyTimeoutMs?: number } = {}): SqliteDb {
  mkdirSync(dataDir, { recursive: true });
  return new SqliteDb(join(dataDir, DATABASE_FILE), options);
}

/**
 * A connection to the backend's database: PostgreSQL when `databaseUrl` is set
 * (`PLEXUS_DATABASE_URL`), else SQLite in `<dataDir>/plexus.db`. Unset tunables take their defaults.
 */
export function openSqlDb(
  config: Pick<StorageConfig, 'dataDir' | 'databaseUrl'> & Partial<StorageConfig>,
  { logger }: { logger?: Logger } = {},
): SqlDb {
  if (!config.databaseUrl) {
    return openSqliteDb(config.dataDir, {
      ...(config.dbBusyTimeoutMs === undefined ? {} : { busyTimeoutMs: config.dbBusyTimeoutMs }),
    });
  }
  return new PgDb(config.databaseUrl, {
    ...(config.dbPoolSize === undefined ? {} : { poolSize: config.dbPoolSize }),
    ...(config.dbBusyTimeoutMs === undefined ? {} : { lockTimeoutMs: config.dbBusyTimeoutMs }),
    onIdleError: (err) => logger?.warn({ err }, 'idle PostgreSQL connection failed'),
  });
}

/**
 * The backend's storage (see openSqlDb) and its repository. Nothing is migrated yet: call
 * `repo.migrate()`, which applies every store's migrations.
 */
export function openRepository(config: StorageConfig, options: { logger?: Logger } = {}): OpenedStorage {
  const db = openSqlDb(config, options);
  return { db, repo: new SqlRepository(db) };
}

/** Where the storage lives, for logs: never the URL itself (it may carry a password). */
export function describeStorage(config: StorageConfig): Record<string, string> {
  if (!config.databaseUrl) return { engine: 'sqlite', file: join(config.dataDir, DATABASE_FILE) };
  // The driver accepts URLs the WHATWG parser refuses (e.g. an unencoded `#` in a password).
  if (!URL.canParse(config.databaseUrl)) return { engine: 'postgres' };
  const url = new URL(config.databaseUrl);
  return { engine: 'postgres', host: url.host, database: url.pathname.slice(1) };
}
