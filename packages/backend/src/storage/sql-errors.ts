/** SQLite extended result codes of a UNIQUE or PRIMARY KEY violation. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
/** PostgreSQL SQLSTATE unique_violation (primary keys included). */
const PG_UNIQUE_VIOLATION = '23505';

/**
 * True when `err` is a statement refused by a UNIQUE or PRIMARY KEY constraint, on either engine,
 * so stores can turn it into their own error (e.g. EmailTakenError) without knowing the engine.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errcode?: unknown };
  if (e.code === PG_UNIQUE_VIOLATION) return true;
  return (
    e.code === 'ERR_SQLITE_ERROR' &&
    (e.errcode === SQLITE_CONSTRAINT_UNIQUE || e.errcode === SQLITE_CONSTRAINT_PRIMARYKEY)
  );
}
