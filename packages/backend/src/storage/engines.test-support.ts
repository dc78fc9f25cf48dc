// Runs storage tests on both engines (not part of the public API; tests only).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { PostgresNotInstalledError, type PostgresServer, startPostgres } from '@plexus/testkit';
import { loadMigrations } from './migrations.ts';
import { migrateUp } from './migrator.ts';
import { openSqlDb } from './open-repository.ts';
import type { SqlDb } from './sql-db.ts';

export type Engine = SqlDb['engine'];
export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

/** Where one test's database lives: what openSqlDb and a backend process (`env`) need. */
export interface EngineTarget {
  engine: Engine;
  /** A fresh temp directory (the SQLite file's; scratch space on PostgreSQL). */
  dataDir: string;
  /** The test's own PostgreSQL database; undefined on SQLite. */
  databaseUrl?: string;
  /** Environment selecting this database for a `plexus backend` process. */
  env: Record<string, string>;
}

export interface EngineContext {
  engine: Engine;
  target: EngineTarget;
  /**
   * Opens another connection (PostgreSQL: another pool) to the same database; closed after the
   * test. On SQLite, do not overlap `transaction()`s of two connections in one thread: the second
   * BEGIN blocks the whole thread for busy_timeout while the first waits for the event loop, then
   * fails with "database is locked". Race SQLite connections from worker threads instead
   * (`target` has what a worker needs: `openSqlDb(target)`); single statements are fine.
   */
  open(): SqlDb;
  t: TestContext;
}

export interface ForEachEngineOptions {
  /** Apply every shipped migration first (default true). */
  migrate?: boolean;
  timeout?: number;
}

let postgres: Promise<PostgresServer> | undefined;
after(async () => {
  const server = await postgres?.catch(() => undefined);
  await server?.stop();
});

/** The file's PostgreSQL server (started on first use, stopped after the file's tests). */
function postgresServer(): Promise<PostgresServer> {
  postgres ??= startPostgres();
  return postgres;
}

/**
 * A fresh empty database on `engine` for one test, or undefined when the test was skipped: only
 * outside CI and only when PostgreSQL is not installed. In CI (`CI=true`) a missing PostgreSQL fails.
 */
export async function createEngineTarget(engine: Engine, t: TestContext): Promise<EngineTarget | undefined> {
  const dataDir = mkdtempSync(join(tmpdir(), `plexus-${engine}-test-`));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  if (engine === 'sqlite') return { engine, dataDir, env: { PLEXUS_DATA_DIR: dataDir } };
  let server: PostgresServer;
  try {
    server = await postgresServer();
  } catch (err) {
    if (err instanceof PostgresNotInstalledError && process.env.CI !== 'true') {
      t.skip(`skipped: ${err.message}`);
      return undefined;
    }
    throw err;
  }
  const databaseUrl = await server.createDatabase();
  return {
    engine,
    dataDir,
    databaseUrl,
    env: { PLEXUS_DATA_DIR: dataDir, PLEXUS_DATABASE_URL: databaseUrl },
  };
}

/**
 * Registers `<name> [sqlite]` and `<name> [postgres]`: each runs `fn` with a connection to a fresh
 * database of that engine, migrated to the latest version unless `migrate: false`. Connections from
 * `ctx.open()` and the one given are closed afterwards. Use it for every store written on SqlDb:
 *
 * ```ts
 * forEachEngine('claims bump the epoch', async (db) => {
 *   const store = new CheckpointStore(db);
 *   …
 * });
 * ```
 */
export function forEachEngine(
  name: string,
  fn: (db: SqlDb, ctx: EngineContext) => Promise<void>,
  options: ForEachEngineOptions = {},
): void {
  for (const engine of ENGINES) {
    test(`${name} [${engine}]`, { ...(options.timeout ? { timeout: options.timeout } : {}) }, async (t) => {
      const target = await createEngineTarget(engine, t);
      if (!target) return;
      const opened: SqlDb[] = [];
      const open = () => {
        const db = openSqlDb(target);
        opened.push(db);
        return db;
      };
      try {
        const db = open();
        if (options.migrate ?? true) await migrateUp(db, loadMigrations(engine), Date.now());
        await fn(db, { engine, target, open, t });
      } finally {
        await Promise.all(opened.map((db) => db.close()));
      }
    });
  }
}
