import { randomUUID } from 'node:crypto';
import { AppError } from '@plexus/kit';
import type { AuthResult, GuestInput, RegisterInput } from '@plexus/protocol';
import {
  EmailTakenError,
  type FirstSession,
  type Repository,
  type UserRecord,
} from '../storage/repository.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { hashSessionId, newSessionId } from './tokens.ts';
import { toUserSimple } from './user-simple.ts';

export interface AuthServiceOptions {
  repo: Repository;
  sessionTtlMs: number;
  clock: () => number;
  /** Called once per session created, with how it was created and for whom (metrics, analytics). */
  onSessionCreated?: (kind: 'register' | 'login' | 'guest', userId: string) => void;
  /** Called once a session was logged out (the balancers must stop honouring it). */
  onLoggedOut?: (userId: string) => void;
}

/** Identity: accounts, guests and sessions. Session ids are returned once and stored only hashed. */
export class AuthService {
  private readonly repo: Repository;
  private readonly sessionTtlMs: number;
  private readonly clock: () => number;
  private readonly onSessionCreated: (kind: 'register' | 'login' | 'guest', userId: string) => void;
  private readonly onLoggedOut: (userId: string) => void;
  /** A real hash to verify against when the email is unknown, so both failures cost the same. */
  private dummyHash: Promise<string> | undefined;

  constructor(options: AuthServiceOptions) {
    this.repo = options.repo;
    this.sessionTtlMs = options.sessionTtlMs;
    this.clock = options.clock;
    this.onSessionCreated = options.onSessionCreated ?? (() => {});
    this.onLoggedOut = options.onLoggedOut ?? (() => {});
  }

  async register(input: RegisterInput): Promise<AuthResult> {
    const passwordHash = await hashPassword(input.password);
    const session = this.newSession();
    let user: UserRecord;
    try {
      user = await this.repo.createUser(
        {
          id: randomUUID(),
          email: input.email,
          passwordHash,
          isGuest: false,
          firstName: input.firstName,
          lastName: input.lastName ?? '',
          createdAt: session.record.createdAt,
        },
        session.record,
      );
    } catch (err) {
      if (err instanceof EmailTakenError) throw new AppError('AUTH_EMAIL_TAKEN', undefined, { cause: err });
      throw err;
    }
    return this.opened(user, session, 'register');
  }

  async login(email: string, password: string): Promise<AuthResult> {
    const user = await this.repo.findUserByEmail(email);
    const hash = user?.passwordHash ?? (await this.getDummyHash());
    const valid = await verifyPassword(password, hash);
    if (!user?.passwordHash || !valid) throw new AppError('AUTH_INVALID_CREDENTIALS');
    const session = this.newSession();
    await this.repo.createSession({ ...session.record, userId: user.id });
    return this.opened(user, session, 'login');
  }

  async guest(input: GuestInput): Promise<AuthResult> {
    const session = this.newSession();
    const user = await this.repo.createUser(
      {
        id: randomUUID(),
        email: null,
        passwordHash: null,
        isGuest: true,
        firstName: input.firstName,
        lastName: input.lastName ?? '',
        createdAt: session.record.createdAt,
      },
      session.record,
    );
    return this.opened(user, session, 'guest');
  }

  /** Revokes the session; an already invalid one is AUTH_INVALID_SESSION. */
  async logout(sessionId: string): Promise<void> {
    const user = await this.authenticate(sessionId);
    await this.repo.revokeSession(hashSessionId(sessionId), this.clock());
    this.onLoggedOut(user.id);
  }

  /** The user of a live session; unknown, expired or revoked sessions are AUTH_INVALID_SESSION. */
  async authenticate(sessionId: string): Promise<UserRecord> {
    const session = await this.repo.findSession(hashSessionId(sessionId));
    if (!session || session.revokedAt !== null || session.expiresAt <= this.clock()) {
      throw new AppError('AUTH_INVALID_SESSION');
    }
    const user = await this.repo.findUserById(session.userId);
    if (!user) throw new AppError('AUTH_INVALID_SESSION');
    return user;
  }

  /** A new session id and its stored form (only the hash is kept). */
  private newSession(): { sessionId: string; record: FirstSession } {
    const sessionId = newSessionId();
    const now = this.clock();
    return {
      sessionId,
      record: { tokenHash: hashSessionId(sessionId), createdAt: now, expiresAt: now + this.sessionTtlMs },
    };
  }

  /** The answer to a login once its session is stored. */
  private opened(
    user: UserRecord,
    session: { sessionId: string; record: FirstSession },
    kind: 'register' | 'login' | 'guest',
  ): AuthResult {
    this.onSessionCreated(kind, user.id);
    return {
      sessionId: session.sessionId,
      expiresAt: new Date(session.record.expiresAt).toISOString(),
      user: toUserSimple(user),
    };
  }

  private getDummyHash(): Promise<string> {
    this.dummyHash ??= hashPassword(newSessionId());
    return this.dummyHash;
  }
}
