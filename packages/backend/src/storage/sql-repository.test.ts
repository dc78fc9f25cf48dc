import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { AutoPool, seatUser } from '../stores/seat-pools.ts';
import { post, rpcUrl, startTestBackend } from '../test-support.ts';
import { createEngineTarget, type EngineTarget, forEachEngine } from './engines.test-support.ts';
import { loadMigrations } from './migrations.ts';
import { openSqlDb } from './open-repository.ts';
import { EmailTakenError } from './repository.ts';
import type { SqlDb } from './sql-db.ts';
import { SqlRepository } from './sql-repository.ts';

// The repository suite: every case runs on SQLite and on PostgreSQL (engines.test-support.ts).

const tables = async (db: SqlDb): Promise<string[]> => {
  const sql =
    db.engine === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
      : 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name';
  return (await db.all<{ name: string }>(sql)).map((r) => r.name);
};

const REPOSITORY_TABLES = ['playground_seats', 'playgrounds', 'schema_migrations', 'sessions', 'users'];

/** A seat in the auto-opened playgrounds of `type`, as matchmaking takes one. */
const autoSeat = (
  db: SqlDb,
  userId: string,
  type: string,
  capacity: number,
  seatTtlMs: number,
  now: number,
) => {
  const pool = new AutoPool(type, capacity, now);
  return db.transaction((tx) => seatUser(tx, pool, { userId, now, freshAfter: now - seatTtlMs }), {
    lockKey: pool.lockKey,
  });
};

const guest = (id: string) => ({
  id,
  email: null,
  passwordHash: null,
  isGuest: true,
  firstName: id,
  lastName: '',
  createdAt: 1,
});

forEachEngine('data survives closing and reopening the connection', async (db, { open }) => {
  const first = new SqlRepository(db);
  const user = await first.createUser({
    id: 'u-1',
    email: 'keep@example.com',
    passwordHash: 'scrypt$x',
    isGuest: false,
    firstName: 'Kept',
    lastName: 'Row',
    createdAt: 1_000,
  });
  assert.deepEqual(user, {
    id: 'u-1',
    email: 'keep@example.com',
    passwordHash: 'scrypt$x',
    isGuest: false,
    firstName: 'Kept',
    lastName: 'Row',
    privacyMode: 0,
    avatar: '',
    avatar3D: null,
    companyName: '',
    companyTitle: '',
    createdAt: 1_000,
    updatedAt: 1_000,
  });
  const avatar3D = { assetId: 'a', assetSkins: { k: 'v' }, avatarUrl: '', avatarUserId: '' };
  const updated = await first.updateProfile('u-1', { privacyMode: 1, avatar3D, companyName: 'Co' }, 2_000);
  assert.deepEqual(updated, { ...user, privacyMode: 1, avatar3D, companyName: 'Co', updatedAt: 2_000 });
  assert.equal(await first.updateProfile('nobody', { avatar: '' }, 2_000), undefined);
  await first.createSession({ tokenHash: 'h-1', userId: 'u-1', createdAt: 1_000, expiresAt: 9_000 });
  assert.equal(await first.revokeSession('h-1', 3_000), true);
  assert.equal(await first.revokeSession('h-1', 4_000), false);
  const seat = await autoSeat(db, 'u-1', 'lobby', 5, 1e9, 1);
  assert.deepEqual(seat, { playgroundId: 'public-lobby-1', outcome: 'opened' });
  await first.close();
  await first.close(); // idempotent

  const reopened = open();
  const second = new SqlRepository(reopened);
  assert.deepEqual(await second.migrate(), []);
  assert.equal(second.migrated, true);
  assert.deepEqual(await second.findUserByEmail('keep@example.com'), updated);
  assert.deepEqual(await second.findUserById('u-1'), updated);
  assert.deepEqual(await second.findSession('h-1'), {
    tokenHash: 'h-1',
    userId: 'u-1',
    createdAt: 1_000,
    expiresAt: 9_000,
    revokedAt: 3_000,
  });
  assert.deepEqual(await autoSeat(reopened, 'u-1', 'lobby', 5, 1e9, 2), {
    playgroundId: seat?.playgroundId,
    outcome: 'kept',
  });
});

forEachEngine(
  'createUser refuses a duplicate email with EmailTakenError; guests have no email',
  async (db) => {
    const repo = new SqlRepository(db);
    const base = { passwordHash: null, isGuest: false, firstName: 'A', lastName: '', createdAt: 1 };
    await repo.createUser({ ...base, id: 'a', email: 'a@example.com' });
    await assert.rejects(repo.createUser({ ...base, id: 'b', email: 'a@example.com' }), EmailTakenError);
    // A duplicate id is a bug, not a taken email: the driver's error comes through.
    await assert.rejects(repo.createUser({ ...base, id: 'a', email: 'other@example.com' }), (err) => {
      assert.ok(!(err instanceof EmailTakenError));
      return true;
    });
    await repo.createUser(guest('g1'));
    await repo.createUser(guest('g2'));
    // A seat needs a user (foreign key), whatever the engine.
    await assert.rejects(autoSeat(db, 'ghost', 'lobby', 1, 1, 1));
  },
);

forEachEngine('createUser with a first session stores both together, or neither', async (db) => {
  const repo = new SqlRepository(db);
  const session = { tokenHash: 'h-1', createdAt: 1, expiresAt: 10 };
  await repo.createUser(guest('with-session'), session);
  assert.deepEqual(await repo.findSession('h-1'), { ...session, userId: 'with-session', revokedAt: null });
  const base = { passwordHash: null, isGuest: false, firstName: 'A', lastName: '', createdAt: 1 };
  await repo.createUser({ ...base, id: 'first', email: 'taken@example.com' });
  await assert.rejects(
    repo.createUser({ ...base, id: 'second', email: 'taken@example.com' }, { ...session, tokenHash: 'h-2' }),
    EmailTakenError,
  );
  assert.equal(await repo.findSession('h-2'), undefined);
  assert.equal(await repo.findUserById('second'), undefined);
});

forEachEngine('sessions: expired ones are deleted, live ones kept', async (db) => {
  const repo = new SqlRepository(db);
  await repo.createUser(guest('u'));
  await repo.createSession({ tokenHash: 'old', userId: 'u', createdAt: 1, expiresAt: 100 });
  await repo.createSession({ tokenHash: 'live', userId: 'u', createdAt: 1, expiresAt: 10_000 });
  assert.equal(await repo.deleteExpiredSessions(5_000), 1);
  assert.equal(await repo.findSession('old'), undefined);
  assert.equal((await repo.findSession('live'))?.expiresAt, 10_000);
  assert.equal(await repo.deleteExpiredSessions(5_000), 0);
});

forEachEngine(
  'auto seats fill the lowest playground first, reopen freed seats, and drop stale seats',
  async (db) => {
    const repo = new SqlRepository(db);
    for (const id of ['a', 'b', 'c', 'd']) await repo.createUser(guest(id));
    const seat = (userId: string, now: number) => autoSeat(db, userId, 'hall', 2, 1_000, now);
    assert.deepEqual(await seat('a', 10), { playgroundId: 'public-hall-1', outcome: 'opened' });
    assert.deepEqual(await seat('b', 20), { playgroundId: 'public-hall-1', outcome: 'joined' });
    assert.deepEqual(await seat('c', 30), { playgroundId: 'public-hall-2', outcome: 'opened' });
    assert.deepEqual(await seat('a', 40), { playgroundId: 'public-hall-1', outcome: 'kept' });
    // At 1025, b's seat (20) is stale: hall-1 has room again, before hall-2.
    assert.deepEqual(await seat('d', 1_025), { playgroundId: 'public-hall-1', outcome: 'joined' });
  },
);

forEachEngine(
  'migrations: down to 0 drops the schema, up recreates it; /readyz follows',
  async (db, { target }) => {
    const versions = loadMigrations(db.engine).map((m) => m.version);
    const backend = await startTestBackend(target.dataDir, {}, { db, migrate: false });
    const repo = backend.repo;
    const readyz = async () => (await backend.app.inject({ method: 'GET', url: '/readyz' })).statusCode;
    try {
      assert.equal(await readyz(), 503);
      assert.deepEqual(await repo.migrate(), versions);
      assert.equal(await readyz(), 200);
      const all = await tables(db);
      for (const table of REPOSITORY_TABLES) assert.ok(all.includes(table), `${table} missing: ${all}`);

      assert.deepEqual(await repo.migrateDown(0), [...versions].reverse());
      assert.equal(repo.migrated, false);
      assert.deepEqual(await tables(db), ['schema_migrations']);
      assert.equal(await readyz(), 503);

      assert.deepEqual(await repo.migrate(), versions);
      assert.deepEqual(await tables(db), all);
      assert.equal((await post(backend.app, rpcUrl('auth.guest'), { firstName: 'After' })).status, 200);
    } finally {
      await backend.close();
    }
  },
  { migrate: false },
);

forEachEngine(
  'a failing migration rolls back entirely',
  async (db) => {
    const repo = new SqlRepository(db, {
      migrations: [
        { version: 1, name: 'good', up: 'CREATE TABLE a (x INTEGER);', down: 'DROP TABLE a;' },
        {
          version: 2,
          name: 'bad',
          up: 'CREATE TABLE b (x INTEGER); SELECT * FROM nope;',
          down: 'DROP TABLE b;',
        },
      ],
    });
    await assert.rejects(repo.migrate(), /nope/);
    assert.equal(repo.migrated, false);
    // Even schema_migrations' creation was rolled back with the rest.
    assert.deepEqual(await tables(db), []);
  },
  { migrate: false },
);

forEachEngine('session ids and passwords are stored only as hashes', async (db, { target, open }) => {
  const backend = await startTestBackend(target.dataDir, {}, { db });
  let sessionId: string;
  try {
    const res = await post<{ sessionId: string }>(backend.app, rpcUrl('auth.register'), {
      email: 'secret@example.com',
      password: 'hunter2hunter2',
      firstName: 'S',
    });
    sessionId = res.body.data?.sessionId as string;
  } finally {
    await backend.close();
  }
  const check = open();
  const rows = await check.all<Record<string, unknown>>('SELECT * FROM sessions');
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.token_hash, createHash('sha256').update(sessionId).digest('hex'));
  for (const table of ['users', 'sessions']) {
    for (const row of await check.all(`SELECT * FROM ${table}`)) {
      const text = JSON.stringify(row);
      assert.equal(text.includes(sessionId), false, `${table} holds the session id`);
      assert.equal(text.includes('hunter2hunter2'), false, `${table} holds the password`);
    }
  }
  const user = await check.get<{ password_hash: string }>('SELECT password_hash FROM users');
  assert.match(user?.password_hash ?? '', /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
  if (target.engine === 'sqlite') {
    // Nor anywhere in the raw files (database, WAL).
    for (const file of readdirSync(target.dataDir)) {
      const bytes = readFileSync(join(target.dataDir, file));
      assert.equal(bytes.includes(sessionId), false, `${file} holds the session id`);
    }
  }
});

/** Seats `userIds` in the auto pool from a worker thread with its own connection (pool on PostgreSQL). */
function seatWorker(target: EngineTarget, userIds: string[], capacity: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./seat-worker.fixture.ts', import.meta.url), {
      workerData: { dataDir: target.dataDir, databaseUrl: target.databaseUrl, userIds, capacity },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited ${code}`)));
  });
}

forEachEngine(
  'four connections racing from worker threads all get seats (waiting, no errors) and never overfill',
  async (db, { target }) => {
    const repo = new SqlRepository(db);
    const userIds = Array.from({ length: 120 }, (_, i) => `w-${i}`);
    for (const id of userIds) await repo.createUser(guest(id));
    const capacity = 9;
    const slices = [0, 1, 2, 3].map((w) => userIds.filter((_, i) => i % 4 === w));
    const results = await Promise.all(slices.map((slice) => seatWorker(target, slice, capacity)));
    const population = new Map<string, number>();
    for (const id of results.flat()) population.set(id, (population.get(id) ?? 0) + 1);
    for (const [id, n] of population) assert.ok(n <= capacity, `${id} has ${n} > ${capacity}`);
    assert.equal(population.size, Math.ceil(120 / capacity));
    const stored = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM playground_seats');
    assert.equal(stored?.n, 120);
  },
  { timeout: 60_000 },
);

test('two backends migrating one PostgreSQL database at once apply each migration exactly once', async (t) => {
  const target = await createEngineTarget('postgres', t);
  if (!target) return;
  const a = new SqlRepository(openSqlDb(target));
  const b = new SqlRepository(openSqlDb(target));
  try {
    const [appliedA, appliedB] = await Promise.all([a.migrate(), b.migrate()]);
    const versions = loadMigrations('postgres').map((m) => m.version);
    assert.deepEqual(
      [...appliedA, ...appliedB].sort((x, y) => x - y),
      versions,
    );
    assert.ok(appliedA.length === 0 || appliedB.length === 0, 'both migrated');
    assert.equal(a.migrated && b.migrated, true);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
