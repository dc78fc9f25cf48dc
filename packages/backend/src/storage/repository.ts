import type { Avatar3D } from '@plexus/protocol';

/**
 * The storage contract of identity and sessions (the later domains use stores over SqlDb, in
 * stores/). Engine-neutral (SQLite or PostgreSQL): async methods, plain records, times as epoch
 * milliseconds. An acknowledged write is committed (durable) when its promise resolves.
 */
export interface Repository {
  /** True once `migrate()` has brought the schema up to date; drives `/readyz`. */
  readonly migrated: boolean;
  /** Applies pending migrations in order, in one transaction; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** Reverts applied migrations above `targetVersion`, newest first; returns the versions reverted. */
  migrateDown(targetVersion: number): Promise<number[]>;

  /**
   * Inserts a user, and with `session` their first session in the same transaction (one commit: a
   * login that creates its user waits for one durable write, not two). Rejects with EmailTakenError
   * when the email is already registered.
   */
  createUser(user: NewUser, session?: FirstSession): Promise<UserRecord>;
  findUserById(id: string): Promise<UserRecord | undefined>;
  /** Looks up by normalised (lower-case) email. */
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  /** Applies the fields present in `patch`; undefined when the user does not exist. */
  updateProfile(id: string, patch: ProfilePatch, now: number): Promise<UserRecord | undefined>;

  createSession(session: NewSession): Promise<void>;
  /** The session with this token hash, whatever its state (callers check expiry and revocation). */
  findSession(tokenHash: string): Promise<SessionRecord | undefined>;
  /** Marks the session revoked; false when it does not exist or was already revoked. */
  revokeSession(tokenHash: string, now: number): Promise<boolean>;
  /** Deletes sessions that expired before `before`; returns how many. */
  deleteExpiredSessions(before: number): Promise<number>;

  close(): Promise<void>;
}

export interface UserRecord {
  id: string;
  /** Lower-case email; null for guests. */
  email: string | null;
  /** Encoded scrypt hash (see password.ts); null for guests. */
  passwordHash: string | null;
  isGuest: boolean;
  firstName: string;
  lastName: string;
  privacyMode: number;
  avatar: string;
  avatar3D: Avatar3D | null;
  companyName: string;
  companyTitle: string;
  createdAt: number;
  updatedAt: number;
}

export interface NewUser {
  id: string;
  email: string | null;
  passwordHash: string | null;
  isGuest: boolean;
  firstName: string;
  lastName: string;
  createdAt: number;
}

export type ProfilePatch = Partial<
  Pick<
    UserRecord,
    'firstName' | 'lastName' | 'privacyMode' | 'avatar' | 'avatar3D' | 'companyName' | 'companyTitle'
  >
>;

export interface SessionRecord {
  /** SHA-256 (hex) of the session id; the id itself is never stored. */
  tokenHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export type NewSession = Omit<SessionRecord, 'revokedAt'>;

/** The session created with its user (createUser). */
export type FirstSession = Omit<NewSession, 'userId'>;

/** Raised by createUser for a duplicate email, whatever the engine. */
export class EmailTakenError extends Error {
  override name = 'EmailTakenError';
}
