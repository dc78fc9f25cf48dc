import { AppError } from '@plexus/kit';

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

/** SQLite primary result codes: the database is locked by another connection past busy_timeout. */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
/** PostgreSQL SQLSTATEs of a server that cannot serve now: shutting down, starting, out of connections. */
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);
/** Socket errors of a database server that is gone or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  'ENOTFOUND',
]);

/**
 * A storage failure that says nothing about the request — the database is unreachable, restarting
 * or locked past its timeout — as 503 COMMON_UNAVAILABLE (retry later), instead of a 500 that
 * reads as a bug. Undefined for every other error.
 */
export function storageUnavailable(err: unknown): AppError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown; statusCode?: unknown };
  // Fastify marks the request's own stream errors 4xx: an ECONNRESET there is a client that cut its
  // body short, not a lost database (docs/operations.md, "Logs").
  if (typeof e.statusCode === 'number' && e.statusCode < 500) return undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  const unavailable =
    (typeof e.code === 'string' &&
      (NETWORK_CODES.has(e.code) || PG_UNAVAILABLE.has(e.code) || e.code.startsWith('08'))) ||
    (e.code === 'ERR_SQLITE_ERROR' &&
      typeof e.errcode === 'number' &&
      ((e.errcode & 0xff) === SQLITE_BUSY || (e.errcode & 0xff) === SQLITE_LOCKED)) ||
    // node-postgres reports a connection lost mid-query or a pool wait that timed out by message.
    /^Connection terminated|timeout exceeded when trying to connect/.test(message);
  return unavailable
    ? new AppError('COMMON_UNAVAILABLE', 'The database is unavailable; retry later')
    : undefined;
}
