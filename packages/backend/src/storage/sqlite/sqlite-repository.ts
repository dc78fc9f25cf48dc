import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { Avatar3D } from '@plexus/protocol';
import { loadMigrations, type Migration } from '../migrations.ts';
import {
  EmailTakenError,
  type NewSession,
  type NewUser,
  type ProfilePatch,
  type Repository,
  type SeatAssignment,
  type SeatRequest,
  type SessionRecord,
  UnknownUserError,
  type UserRecord,
} from '../repository.ts';
import { isUpToDate, migrateDown, migrateUp } from './sqlite-migrator.ts';
import { immediate } from './transaction.ts';

export interface SqliteRepositoryOptions {
  /** Directory of the database file `plexus.db`; created when missing. */
  dataDir: string;
  busyTimeoutMs?: number;
  /** Override of the shipped migrations (tests). */
  migrations?: Migration[];
}

/** File name of the database inside the data directory. */
export const DATABASE_FILE = 'plexus.db';

interface UserRow {
  id: string;
  email: string | null;
  password_hash: string | null;
  is_guest: number;
  first_name: string;
  last_name: string;
  privacy_mode: number;
  avatar: string;
  avatar_3d: string | null;
  company_name: string;
  company_title: string;
  created_at: number;
  updated_at: number;
}

interface SessionRow {
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** Profile fields → columns; the only columns updateProfile may write. */
const PROFILE_COLUMNS = {
  firstName: 'first_name',
  lastName: 'last_name',
  privacyMode: 'privacy_mode',
  avatar: 'avatar',
  avatar3D: 'avatar_3d',
  companyName: 'company_name',
  companyTitle: 'company_title',
} as const satisfies Record<keyof ProfilePatch, string>;

/** Opens (creating if needed) `<dataDir>/plexus.db` with WAL, synchronous=FULL and foreign keys. */
export function openSqliteRepository(options: SqliteRepositoryOptions): SqliteRepository {
  mkdirSync(options.dataDir, { recursive: true });
  return new SqliteRepository(join(options.dataDir, DATABASE_FILE), options);
}

/**
 * Repository over Node's built-in `node:sqlite`. The driver is synchronous: each method runs to
 * completion on the event loop, and multi-statement writes use BEGIN IMMEDIATE so they also hold
 * against other processes sharing the file.
 */
export class SqliteRepository implements Repository {
  readonly file: string;
  private readonly db: DatabaseSync;
  private readonly migrations: Migration[];
  private readonly statements = new Map<string, StatementSync>();
  private isMigrated = false;
  private closed = false;

  constructor(file: string, options: Omit<SqliteRepositoryOptions, 'dataDir'> = {}) {
    this.file = file;
    this.migrations = options.migrations ?? loadMigrations();
    this.db = new DatabaseSync(file);
    this.db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5_000)}`);
    this.db.exec('PRAGMA journal_mode = WAL');
    // FULL: a commit is on disk before the API acknowledges it (DESIGN.md §7).
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec('PRAGMA foreign_keys = ON');
    this.isMigrated = isUpToDate(this.db, this.migrations);
  }

  get migrated(): boolean {
    return this.isMigrated;
  }

  /** Reads a PRAGMA value (tests and diagnostics). */
  pragma(name: 'journal_mode' | 'synchronous' | 'foreign_keys' | 'busy_timeout'): unknown {
    const row = this.db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined;
    return row ? Object.values(row)[0] : undefined;
  }

  async migrate(): Promise<number[]> {
    const applied = migrateUp(this.db, this.migrations, Date.now());
    this.statements.clear();
    this.isMigrated = true;
    return applied;
  }

  async migrateDown(targetVersion: number): Promise<number[]> {
    const reverted = migrateDown(this.db, this.migrations, targetVersion);
    this.statements.clear();
    this.isMigrated = isUpToDate(this.db, this.migrations);
    return reverted;
  }

  async createUser(user: NewUser): Promise<UserRecord> {
    try {
      this.stmt(
        `INSERT INTO users (id, email, password_hash, is_guest, first_name, last_name, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        user.id,
        user.email,
        user.passwordHash,
        user.isGuest ? 1 : 0,
        user.firstName,
        user.lastName,
        user.createdAt,
        user.createdAt,
      );
    } catch (err) {
      if (isUniqueViolation(err, 'users.email')) throw new EmailTakenError('email taken', { cause: err });
      throw err;
    }
    return this.requireUser(user.id);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    return this.userById(id);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = this.stmt('SELECT * FROM users WHERE email = ?').get(email) as UserRow | undefined;
    return row && toUser(row);
  }

  async updateProfile(id: string, patch: ProfilePatch, now: number): Promise<UserRecord | undefined> {
    const sets: string[] = ['updated_at = ?'];
    const values: SQLInputValue[] = [now];
    for (const key of Object.keys(PROFILE_COLUMNS) as (keyof ProfilePatch)[]) {
      if (!(key in patch)) continue;
      const value = patch[key];
      if (value === undefined) continue;
      sets.push(`${PROFILE_COLUMNS[key]} = ?`);
      values.push(
        key === 'avatar3D' ? (value === null ? null : JSON.stringify(value)) : (value as SQLInputValue),
      );
    }
    const result = this.db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    if (result.changes === 0) return undefined;
    return this.userById(id);
  }

  async createSession(session: NewSession): Promise<void> {
    this.stmt('INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
      session.tokenHash,
      session.userId,
      session.createdAt,
      session.expiresAt,
    );
  }

  async findSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const row = this.stmt('SELECT * FROM sessions WHERE token_hash = ?').get(tokenHash) as
      | SessionRow
      | undefined;
    return (
      row && {
        tokenHash: row.token_hash,
        userId: row.user_id,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
      }
    );
  }

  async revokeSession(tokenHash: string, now: number): Promise<boolean> {
    const result = this.stmt(
      'UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL',
    ).run(now, tokenHash);
    return result.changes > 0;
  }

  async deleteExpiredSessions(before: number): Promise<number> {
    return Number(this.stmt('DELETE FROM sessions WHERE expires_at < ?').run(before).changes);
  }

  async assignSeat(req: SeatRequest): Promise<SeatAssignment> {
    const freshAfter = req.now - req.seatTtlMs;
    return immediate(this.db, (): SeatAssignment => {
      if (!this.stmt('SELECT 1 FROM users WHERE id = ?').get(req.userId)) {
        throw new UnknownUserError(`no user ${req.userId}`);
      }
      // Stale seats no longer count; dropping them keeps the table as small as the live population.
      this.stmt('DELETE FROM playground_seats WHERE playground_type = ? AND assigned_at <= ?').run(
        req.playgroundType,
        freshAfter,
      );
      const own = this.stmt(
        'SELECT playground_id FROM playground_seats WHERE user_id = ? AND playground_type = ?',
      ).get(req.userId, req.playgroundType) as { playground_id: string } | undefined;
      if (own) {
        this.stmt(
          'UPDATE playground_seats SET assigned_at = ? WHERE user_id = ? AND playground_type = ?',
        ).run(req.now, req.userId, req.playgroundType);
        return { playgroundId: own.playground_id, outcome: 'kept' };
      }
      const open = this.stmt(
        `SELECT p.id AS id FROM playgrounds p
           LEFT JOIN playground_seats s ON s.playground_id = p.id
          WHERE p.type = ?
          GROUP BY p.id
         HAVING COUNT(s.user_id) < p.capacity
          ORDER BY p.seq
          LIMIT 1`,
      ).get(req.playgroundType) as { id: string } | undefined;
      let outcome: SeatAssignment['outcome'] = 'joined';
      let playgroundId = open?.id;
      if (playgroundId === undefined) {
        const { next } = this.stmt(
          'SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM playgrounds WHERE type = ?',
        ).get(req.playgroundType) as { next: number };
        playgroundId = `public-${req.playgroundType}-${next}`;
        this.stmt('INSERT INTO playgrounds (id, type, seq, capacity, created_at) VALUES (?, ?, ?, ?, ?)').run(
          playgroundId,
          req.playgroundType,
          next,
          req.capacity,
          req.now,
        );
        outcome = 'opened';
      }
      this.stmt(
        `INSERT INTO playground_seats (user_id, playground_type, playground_id, assigned_at)
         VALUES (?, ?, ?, ?)`,
      ).run(req.userId, req.playgroundType, playgroundId, req.now);
      return { playgroundId, outcome };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }

  private stmt(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private userById(id: string): UserRecord | undefined {
    const row = this.stmt('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  private requireUser(id: string): UserRecord {
    const user = this.userById(id);
    if (!user) throw new Error(`user ${id} vanished after insert`);
    return user;
  }
}

function toUser(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    isGuest: row.is_guest === 1,
    firstName: row.first_name,
    lastName: row.last_name,
    privacyMode: row.privacy_mode,
    avatar: row.avatar,
    avatar3D: row.avatar_3d === null ? null : (JSON.parse(row.avatar_3d) as Avatar3D),
    companyName: row.company_name,
    companyTitle: row.company_title,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function isUniqueViolation(err: unknown, column: string): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'ERR_SQLITE_ERROR' && (e.message ?? '').includes(`UNIQUE constraint failed: ${column}`);
}
