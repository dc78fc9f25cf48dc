import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { code, failure, post, rpcUrl, startTestBackend, tempRoot } from '../test-support.ts';
import { DATABASE_FILE, openSqliteDb } from './open-repository.ts';
import { PgDb } from './postgres/pg-db.ts';

// A storage failure that is not the request's fault answers 503 COMMON_UNAVAILABLE (retry later),
// never a 500 that reads as a bug, and the process keeps serving.

const root = tempRoot();
after(() => root.remove());

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('PostgreSQL unreachable: requests answer 503 COMMON_UNAVAILABLE', async () => {
  const db = new PgDb(`postgres://postgres@127.0.0.1:${await closedPort()}/plexus`, {
    connectTimeoutMs: 2_000,
  });
  const backend = await startTestBackend(root.sub('pg'), {}, { db, migrate: false });
  try {
    const result = await post(backend.app, rpcUrl('auth.guest'), { firstName: 'Ada' });
    assert.deepEqual(failure(result), code('COMMON_UNAVAILABLE'));
    const ready = await backend.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
  } finally {
    await backend.close();
  }
});

test('SQLite locked by another process past busy_timeout: 503, and it serves again once free', async () => {
  const dataDir = root.sub('sqlite');
  const backend = await startTestBackend(dataDir, {}, { db: openSqliteDb(dataDir, { busyTimeoutMs: 50 }) });
  const other = new DatabaseSync(join(dataDir, DATABASE_FILE));
  try {
    other.exec('BEGIN IMMEDIATE');
    const locked = await post(backend.app, rpcUrl('auth.guest'), { firstName: 'Ada' });
    assert.deepEqual(failure(locked), code('COMMON_UNAVAILABLE'));
    other.exec('ROLLBACK');
    const free = await post(backend.app, rpcUrl('auth.guest'), { firstName: 'Ada' });
    assert.equal(free.status, 200);
  } finally {
    other.close();
    await backend.close();
  }
});
