import type { DatabaseSync } from 'node:sqlite';

/**
 * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front (waiting up to
 * busy_timeout for other connections), so read-then-write sequences cannot interleave with another
 * writer. `fn` must be synchronous: nothing else runs on this connection until COMMIT.
 */
export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  let result: T;
  try {
    result = fn();
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
  db.exec('COMMIT');
  return result;
}
