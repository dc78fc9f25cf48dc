import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { createLogger, createMetrics } from '@plexus/kit';
import { createBackendApp } from '../../app.ts';
import { post, rpcUrl, startTestBackend, tempRoot } from '../../test-support.ts';
import { EmailTakenError, UnknownUserError } from '../repository.ts';
import { DATABASE_FILE, openSqliteRepository } from './sqlite-repository.ts';

const root = tempRoot();
after(() => root.remove());

const tables = (file: string): string[] => {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
  } finally {
    db.close();
  }
};

test('opens <dataDir>/plexus.db (creating the directory) with WAL, synchronous=FULL and foreign keys', async () => {
  const dataDir = join(root.sub('pragmas'), 'nested', 'data');
  const repo = openSqliteRepository({ dataDir, busyTimeoutMs: 1234 });
  try {
    assert.equal(repo.file, join(dataDir, DATABASE_FILE));
    assert.equal(repo.pragma('journal_mode'), 'wal');
    assert.equal(repo.pragma('synchronous'), 2); // FULL
    assert.equal(repo.pragma('foreign_keys'), 1);
    assert.equal(repo.pragma('busy_timeout'), 1234);
  } finally {
    await repo.close();
  }
});

test('data survives closing and reopening the repository', async () => {
  const dataDir = root.sub('persist');
  const first = openSqliteRepository({ dataDir });
  await first.migrate();
  const user = await first.createUser({
    id: 'u-1',
    email: 'keep@example.com',
    passwordHash: 'scrypt$x',
    isGuest: false,
    firstName: 'Kept',
    lastName: 'Row',
    createdAt: 1_000,
  });
  await first.updateProfile(
    'u-1',
    { privacyMode: 1, avatar3D: { assetId: 'a', assetSkins: { k: 'v' }, avatarUrl: '', avatarUserId: '' } },
    2_000,
  );
  await first.createSession({ tokenHash: 'h-1', userId: 'u-1', createdAt: 1_000, expiresAt: 9_000 });
  await first.revokeSession('h-1', 3_000);
  const seat = await first.assignSeat({
    userId: 'u-1',
    playgroundType: 'lobby',
    capacity: 5,
    seatTtlMs: 1e9,
    now: 1,
  });
  await first.close();
  await first.close(); // idempotent

  const second = openSqliteRepository({ dataDir });
  try {
    assert.equal(second.migrated, true);
    assert.deepEqual(await second.migrate(), []);
    const reread = await second.findUserByEmail('keep@example.com');
    assert.deepEqual(reread, {
      ...user,
      privacyMode: 1,
      avatar3D: { assetId: 'a', assetSkins: { k: 'v' }, avatarUrl: '', avatarUserId: '' },
      updatedAt: 2_000,
    });
    assert.deepEqual(await second.findSession('h-1'), {
      tokenHash: 'h-1',
      userId: 'u-1',
      createdAt: 1_000,
      expiresAt: 9_000,
      revokedAt: 3_000,
    });
    const again = await second.assignSeat({
      userId: 'u-1',
      playgroundType: 'lobby',
      capacity: 5,
      seatTtlMs: 1e9,
      now: 2,
    });
    assert.deepEqual(again, { playgroundId: seat.playgroundId, outcome: 'kept' });
  } finally {
    await second.close();
  }
});

test('createUser refuses a duplicate email with EmailTakenError; guests have no email', async () => {
  const repo = openSqliteRepository({ dataDir: root.sub('dup') });
  try {
    await repo.migrate();
    const base = { passwordHash: null, isGuest: false, firstName: 'A', lastName: '', createdAt: 1 };
    await repo.createUser({ ...base, id: 'a', email: 'a@example.com' });
    await assert.rejects(repo.createUser({ ...base, id: 'b', email: 'a@example.com' }), EmailTakenError);
    await repo.createUser({ ...base, id: 'g1', email: null, isGuest: true });
    await repo.createUser({ ...base, id: 'g2', email: null, isGuest: true });
    await assert.rejects(
      repo.assignSeat({ userId: 'ghost', playgroundType: 'lobby', capacity: 1, seatTtlMs: 1, now: 1 }),
      UnknownUserError,
    );
    assert.equal(await repo.deleteExpiredSessions(Number.MAX_SAFE_INTEGER), 0);
  } finally {
    await repo.close();
  }
});

test('migrations: down to 0 drops the schema, up recreates it; /readyz follows', async () => {
  const dataDir = root.sub('migrate');
  const repo = openSqliteRepository({ dataDir });
  const app = createBackendApp({
    config: {
      partnerKey: 'k'.repeat(16),
      sessionTtlMs: 1000,
      playgroundCapacity: 1,
      matchmakingSeatTtlMs: 1000,
    },
    logger: createLogger({ component: 'backend', level: 'silent' }),
    metrics: createMetrics('backend'),
    repo,
  });
  try {
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    assert.deepEqual(await repo.migrate(), [1]);
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    assert.deepEqual(tables(repo.file), [
      'playground_seats',
      'playgrounds',
      'schema_migrations',
      'sessions',
      'users',
    ]);

    assert.deepEqual(await repo.migrateDown(0), [1]);
    assert.equal(repo.migrated, false);
    assert.deepEqual(tables(repo.file), ['schema_migrations']);
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);

    assert.deepEqual(await repo.migrate(), [1]);
    assert.deepEqual(tables(repo.file), [
      'playground_seats',
      'playgrounds',
      'schema_migrations',
      'sessions',
      'users',
    ]);
    const guest = await post(app, rpcUrl('auth.guest'), { firstName: 'After' });
    assert.equal(guest.status, 200);
  } finally {
    await app.close();
    await repo.close();
  }
});

test('a failing migration rolls back entirely', async () => {
  const repo = openSqliteRepository({
    dataDir: root.sub('broken'),
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
  try {
    await assert.rejects(repo.migrate(), /nope/);
    assert.equal(repo.migrated, false);
    assert.deepEqual(tables(repo.file), ['schema_migrations']);
  } finally {
    await repo.close();
  }
});

test('session ids are stored only as SHA-256 hashes', async () => {
  const backend = await startTestBackend(root.sub('hashed'));
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
  const db = new DatabaseSync(join(backend.dataDir, DATABASE_FILE), { readOnly: true });
  try {
    const rows = db.prepare('SELECT * FROM sessions').all() as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    const { createHash } = await import('node:crypto');
    assert.equal(rows[0]?.token_hash, createHash('sha256').update(sessionId).digest('hex'));
    for (const table of ['users', 'sessions']) {
      for (const row of db.prepare(`SELECT * FROM ${table}`).all()) {
        const text = JSON.stringify(row);
        assert.equal(text.includes(sessionId), false, `${table} holds the session id`);
        assert.equal(text.includes('hunter2hunter2'), false, `${table} holds the password`);
      }
    }
    const user = db.prepare('SELECT password_hash FROM users').get() as { password_hash: string };
    assert.match(user.password_hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
  } finally {
    db.close();
  }
  // Nor anywhere in the raw files (database, WAL).
  for (const file of readdirSync(backend.dataDir)) {
    const bytes = readFileSync(join(backend.dataDir, file));
    assert.equal(bytes.includes(sessionId), false, `${file} holds the session id`);
  }
});

test('four connections racing from worker threads all get seats (busy waits, no errors) and never overfill', async () => {
  const dataDir = root.sub('workers');
  const repo = openSqliteRepository({ dataDir });
  await repo.migrate();
  const userIds = Array.from({ length: 120 }, (_, i) => `w-${i}`);
  for (const id of userIds) {
    await repo.createUser({
      id,
      email: null,
      passwordHash: null,
      isGuest: true,
      firstName: id,
      lastName: '',
      createdAt: 1,
    });
  }
  const capacity = 9;
  const slices = [0, 1, 2, 3].map((w) => userIds.filter((_, i) => i % 4 === w));
  try {
    const results = await Promise.all(
      slices.map(
        (slice) =>
          new Promise<string[]>((resolve, reject) => {
            const worker = new Worker(new URL('./seat-worker.fixture.ts', import.meta.url), {
              workerData: { file: repo.file, userIds: slice, capacity },
            });
            worker.once('message', resolve);
            worker.once('error', reject);
            worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited ${code}`)));
          }),
      ),
    );
    const population = new Map<string, number>();
    for (const id of results.flat()) population.set(id, (population.get(id) ?? 0) + 1);
    for (const [id, n] of population) assert.ok(n <= capacity, `${id} has ${n} > ${capacity}`);
    assert.equal(population.size, Math.ceil(120 / capacity));
  } finally {
    await repo.close();
  }
});
