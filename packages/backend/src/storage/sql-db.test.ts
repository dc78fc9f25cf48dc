import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachEngine } from './engines.test-support.ts';
import { toPgPlaceholders } from './postgres/pg-db.ts';
import type { SqlDb, SqlExecutor } from './sql-db.ts';
import { isUniqueViolation } from './sql-errors.ts';

// The SqlDb contract every store relies on, checked on both engines with the same SQL.

const TABLE = `CREATE TABLE t (
  id    TEXT PRIMARY KEY,
  email TEXT UNIQUE,
  n     BIGINT NOT NULL,
  blob  BYTEA
)`;

/** BYTEA is PostgreSQL's name; SQLite takes any type name and stores blobs as given. */
const setup = (db: SqlDb) => db.exec(`${TABLE};\nCREATE INDEX t_n ON t (n);`);

/** node:sqlite rows have a null prototype; compare plain copies. */
const plain = (rows: unknown[]) => rows.map((r) => ({ ...(r as object) }));

test('? placeholders become $1…$n in order', () => {
  assert.equal(toPgPlaceholders('SELECT ? , ?,?'), 'SELECT $1 , $2,$3');
  assert.equal(toPgPlaceholders('SELECT 1'), 'SELECT 1');
});

test('isUniqueViolation ignores other errors and non-errors', () => {
  assert.equal(isUniqueViolation(new Error('x')), false);
  assert.equal(isUniqueViolation(null), false);
  assert.equal(isUniqueViolation({ code: '23503' }), false); // foreign key
  assert.equal(isUniqueViolation({ code: 'ERR_SQLITE_ERROR', errcode: 787 }), false); // foreign key
});

forEachEngine(
  'BIGINT values, COUNT, SUM and AVG come back as JS numbers; blobs as bytes',
  async (db) => {
    await setup(db);
    const big = Date.parse('2030-01-01T00:00:00Z');
    await db.run('INSERT INTO t (id, n, blob) VALUES (?, ?, ?)', ['a', big, new Uint8Array([1, 2, 255])]);
    await db.run('INSERT INTO t (id, n) VALUES (?, ?)', ['b', 3]);
    const row = await db.get<{ n: number; blob: Uint8Array }>('SELECT n, blob FROM t WHERE id = ?', ['a']);
    assert.equal(row?.n, big);
    assert.deepEqual([...(row?.blob ?? [])], [1, 2, 255]);
    const agg = await db.get<{ c: number; s: number; a: number; m: number }>(
      'SELECT COUNT(*) AS c, SUM(n) AS s, AVG(n) AS a, MAX(n) AS m FROM t',
    );
    assert.deepEqual({ ...agg }, { c: 2, s: big + 3, a: (big + 3) / 2, m: big });
    assert.deepEqual(plain(await db.all('SELECT id FROM t WHERE n > ? AND id <> ? ORDER BY id', [0, 'z'])), [
      { id: 'a' },
      { id: 'b' },
    ]);
    assert.equal(await db.get('SELECT id FROM t WHERE id = ?', ['none']), undefined);
    assert.deepEqual(await db.run('UPDATE t SET n = n + ?', [1]), { changes: 2 });
  },
  { migrate: false },
);

forEachEngine(
  'a transaction commits when fn resolves and rolls back everything when it rejects',
  async (db) => {
    await setup(db);
    const kept = await db.transaction(async (tx) => {
      await tx.run('INSERT INTO t (id, n) VALUES (?, ?)', ['kept', 1]);
      return (await tx.get<{ n: number }>('SELECT n FROM t WHERE id = ?', ['kept']))?.n;
    });
    assert.equal(kept, 1);
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, n) VALUES (?, ?)', ['lost', 2]);
        await tx.exec('CREATE TABLE lost_table (x INTEGER)');
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(plain(await db.all('SELECT id FROM t ORDER BY id')), [{ id: 'kept' }]);
    // The DDL was rolled back too (transactional DDL on both engines): creating it again works.
    await db.exec('CREATE TABLE lost_table (x INTEGER)');
  },
  { migrate: false },
);

forEachEngine(
  'isUniqueViolation recognises duplicate unique columns and primary keys, not other failures',
  async (db) => {
    await setup(db);
    await db.run('INSERT INTO t (id, email, n) VALUES (?, ?, ?)', ['a', 'x@example.com', 1]);
    const failure = async (sql: string, params: (string | number)[]) => {
      try {
        await db.run(sql, params);
      } catch (err) {
        return err;
      }
      assert.fail(`${sql} succeeded`);
    };
    const email = await failure('INSERT INTO t (id, email, n) VALUES (?, ?, ?)', ['b', 'x@example.com', 1]);
    assert.equal(isUniqueViolation(email), true);
    const pk = await failure('INSERT INTO t (id, n) VALUES (?, ?)', ['a', 1]);
    assert.equal(isUniqueViolation(pk), true);
    const notNull = await failure('INSERT INTO t (id) VALUES (?)', ['c']);
    assert.equal(isUniqueViolation(notNull), false);
    // Inside a transaction too, and the transaction is rolled back.
    const inTx = await db
      .transaction(async (tx) => {
        await tx.run('INSERT INTO t (id, n) VALUES (?, ?)', ['d', 1]);
        await tx.run('INSERT INTO t (id, n) VALUES (?, ?)', ['d', 1]);
      })
      .catch((err: unknown) => err);
    assert.equal(isUniqueViolation(inTx), true);
    assert.equal(await db.get('SELECT id FROM t WHERE id = ?', ['d']), undefined);
  },
  { migrate: false },
);

forEachEngine(
  'transactions with the same lockKey run one after the other; a read-modify-write never loses an update',
  async (db, { engine, open }) => {
    await setup(db);
    await db.run('INSERT INTO t (id, n) VALUES (?, ?)', ['counter', 0]);
    // PostgreSQL: two pools, so the transactions really run on different connections at once.
    // SQLite: one connection per thread (a second one in this thread would block it).
    const other = engine === 'postgres' ? open() : db;
    const increments = 40;
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: increments }, (_, i) =>
        (i % 2 === 0 ? db : other).transaction(
          async (tx) => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            const row = await tx.get<{ n: number }>('SELECT n FROM t WHERE id = ?', ['counter']);
            // Yield to the event loop between read and write: without the lock, others would interleave.
            await new Promise((resolve) => setImmediate(resolve));
            await tx.run('UPDATE t SET n = ? WHERE id = ?', [(row?.n ?? 0) + 1, 'counter']);
            inside--;
          },
          { lockKey: 'counter' },
        ),
      ),
    );
    assert.equal(maxInside, 1);
    assert.equal((await db.get<{ n: number }>('SELECT n FROM t WHERE id = ?', ['counter']))?.n, increments);
  },
  { migrate: false },
);

forEachEngine(
  'exec runs a multi-statement script; a transaction executor refuses use after the transaction',
  async (db) => {
    await db.exec('CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER); INSERT INTO a (x) VALUES (7);');
    assert.deepEqual(plain(await db.all('SELECT x FROM a')), [{ x: 7 }]);
    let leaked: SqlExecutor | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    assert.ok(leaked);
    await assert.rejects(leaked.get('SELECT 1 AS one'), /transaction already finished/);
    await assert.rejects(leaked.run('INSERT INTO b (y) VALUES (1)'), /transaction already finished/);
  },
  { migrate: false },
);
