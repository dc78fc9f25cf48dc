import type { Avatar3D } from '@plexus/protocol';
import { loadMigrations, type Migration } from './migrations.ts';
import { migrateDown, migrateUp } from './migrator.ts';
import {
  EmailTakenError,
  type FirstSession,
  type NewSession,
  type NewUser,
  type ProfilePatch,
  type Repository,
  type SessionRecord,
  type UserRecord,
} from './repository.ts';
import type { SqlDb, SqlValue } from './sql-db.ts';
import { isUniqueViolation } from './sql-errors.ts';

export interface SqlRepositoryOptions {
  /** Override of the shipped migrations (tests); default: those of the db's engine. */
  migrations?: Migration[];
  /** Epoch milliseconds stamped on schema_migrations rows. */
  clock?: () => number;
}

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

const INSERT_SESSION =
  'INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)';

function sessionValues(session: NewSession): SqlValue[] {
  return [session.tokenHash, session.userId, session.createdAt, session.expiresAt];
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

/**
 * The Repository over an engine-neutral SqlDb: the same SQL on SQLite and PostgreSQL. It owns its
 * connection: `close()` closes the db (stores sharing it must be done by then).
 */
export class SqlRepository implements Repository {
  readonly db: SqlDb;
  readonly #migrations: Migration[];
  readonly #clock: () => number;
  #migrated = false;

  constructor(db: SqlDb, options: SqlRepositoryOptions = {}) {
    this.db = db;
    this.#migrations = options.migrations ?? loadMigrations(db.engine);
    this.#clock = options.clock ?? Date.now;
  }

  /** False until `migrate()` ran in this process (a backend migrates before it listens). */
  get migrated(): boolean {
    return this.#migrated;
  }

  async migrate(): Promise<number[]> {
    const outcome = await migrateUp(this.db, this.#migrations, this.#clock());
    this.#migrated = outcome.upToDate;
    return outcome.versions;
  }

  async migrateDown(targetVersion: number): Promise<number[]> {
    const outcome = await migrateDown(this.db, this.#migrations, targetVersion);
    this.#migrated = outcome.upToDate;
    return outcome.versions;
  }

  async createUser(user: NewUser, session?: FirstSession): Promise<UserRecord> {
    let row: UserRow | undefined;
    try {
      row = await this.db.transaction(async (tx) => {
        const inserted = await tx.get<UserRow>(
          `INSERT INTO users (id, email, password_hash, is_guest, first_name, last_name, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          [
            user.id,
            user.email,
            user.passwordHash,
            user.isGuest ? 1 : 0,
            user.firstName,
            user.lastName,
            user.createdAt,
            user.createdAt,
          ],
        );
        if (session) await tx.run(INSERT_SESSION, sessionValues({ ...session, userId: user.id }));
        return inserted;
      });
    } catch (err) {
      // Ids are random UUIDs: a duplicate is the email, unless that email is not there (a real bug).
      if (isUniqueViolation(err) && user.email !== null && (await this.findUserByEmail(user.email))) {
        throw new EmailTakenError('email taken', { cause: err });
      }
      throw err;
    }
    if (!row) throw new Error(`user ${user.id} was not returned by its insert`);
    return toUser(row);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return row && toUser(row);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.db.get<UserRow>('SELECT * FROM users WHERE email = ?', [email]);
    return row && toUser(row);
  }

  async updateProfile(id: string, patch: ProfilePatch, now: number): Promise<UserRecord | undefined> {
    const sets: string[] = ['updated_at = ?'];
    const values: SqlValue[] = [now];
    for (const key of Object.keys(PROFILE_COLUMNS) as (keyof ProfilePatch)[]) {
      const value = patch[key];
      if (value === undefined) continue;
      sets.push(`${PROFILE_COLUMNS[key]} = ?`);
      values.push(key === 'avatar3D' ? (value === null ? null : JSON.stringify(value)) : (value as SqlValue));
    }
    const row = await this.db.get<UserRow>(`UPDATE users SET ${sets.join(', ')} WHERE id = ? RETURNING *`, [
      ...values,
      id,
    ]);
    return row && toUser(row);
  }

  async createSession(session: NewSession): Promise<void> {
    await this.db.run(INSERT_SESSION, sessionValues(session));
  }

  async findSession(tokenHash: string): Promise<SessionRecord | undefined> {
    const row = await this.db.get<SessionRow>('SELECT * FROM sessions WHERE token_hash = ?', [tokenHash]);
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
    const result = await this.db.run(
      'UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL',
      [now, tokenHash],
    );
    return result.changes > 0;
  }

  async deleteExpiredSessions(before: number): Promise<number> {
    return (await this.db.run('DELETE FROM sessions WHERE expires_at < ?', [before])).changes;
  }

  close(): Promise<void> {
    return this.db.close();
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
