import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createEngineTarget } from './engines.test-support.ts';
import { DATABASE_FILE, describeStorage, openRepository } from './open-repository.ts';
import { SqliteDb } from './sqlite/sqlite-db.ts';

const root = mkdtempSync(join(tmpdir(), 'plexus-open-repository-'));
after(() => rmSync(root, { recursive: true, force: true }));

const tunables = { dbBusyTimeoutMs: 1234, dbPoolSize: 3 };

test('without a database URL: <dataDir>/plexus.db (directory created) with WAL, synchronous=FULL, foreign keys', async () => {
  const dataDir = join(root, 'nested', 'data');
  const { db, repo } = openRepository({ dataDir, ...tunables });
  try {
    assert.equal(db.engine, 'sqlite');
    assert.ok(db instanceof SqliteDb);
    assert.equal(db.file, join(dataDir, DATABASE_FILE));
    assert.equal(db.pragma('journal_mode'), 'wal');
    assert.equal(db.pragma('synchronous'), 2); // FULL
    assert.equal(db.pragma('foreign_keys'), 1);
    assert.equal(db.pragma('busy_timeout'), 1234);
    assert.equal(repo.db, db);
    assert.deepEqual(describeStorage({ dataDir, ...tunables }), {
      engine: 'sqlite',
      file: join(dataDir, DATABASE_FILE),
    });
  } finally {
    await repo.close();
  }
});

test('with a postgres:// URL: PostgreSQL with the pool size and lock timeout, committing synchronously', async (t) => {
  const target = await createEngineTarget('postgres', t);
  if (!target?.databaseUrl) return;
  const { db, repo } = openRepository({
    dataDir: target.dataDir,
    databaseUrl: target.databaseUrl,
    ...tunables,
  });
  try {
    assert.equal(db.engine, 'postgres');
    assert.ok((await repo.migrate()).length > 0);
    const settings = await db.get<{ lock: string; sync: string; fsync: string }>(
      'SELECT current_setting(?) AS lock, current_setting(?) AS sync, current_setting(?) AS fsync',
      ['lock_timeout', 'synchronous_commit', 'fsync'],
    );
    assert.deepEqual({ ...settings }, { lock: '1234ms', sync: 'on', fsync: 'on' });
    // The pool never opens more than dbPoolSize connections, however many statements are in flight.
    const sessions = () =>
      db.get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
    await Promise.all(Array.from({ length: 12 }, () => db.get('SELECT pg_sleep(0.05) AS slept')));
    assert.ok(((await sessions())?.n ?? 99) <= tunables.dbPoolSize - 1);
  } finally {
    await repo.close();
  }
  const url = new URL(target.databaseUrl);
  url.password = 'secret';
  assert.deepEqual(describeStorage({ dataDir: target.dataDir, databaseUrl: url.toString(), ...tunables }), {
    engine: 'postgres',
    host: url.host,
    database: url.pathname.slice(1),
  });
});
