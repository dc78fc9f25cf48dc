import {
  type AuthResult,
  type GuestInput,
  PLAYGROUND_ID_PATTERN,
  type ProfileUpdate,
  type RegisterInput,
  type UserSimple,
} from '@plexus/protocol';
import { PlexusError } from './errors.ts';
import { BackendApi } from './http/backend-api.ts';
import { BalancerApi, type MatchCriteria } from './http/balancer-api.ts';
import type { FetchFn } from './http/request.ts';
import type { KindMap } from './kinds.ts';
import { connectPlayground, type Playground, type PlaygroundOptions } from './playground.ts';

/** Options of {@link PlexusClient}. */
export interface PlexusClientOptions extends PlaygroundOptions {
  /** Base URL of the load balancer, e.g. `http://127.0.0.1:8080` (in the demo: `location.origin`). */
  balancerUrl: string;
  /** Base URL of the backend's client RPCs; defaults to `balancerUrl` (the balancer proxies `/api/v0/rpc/*`). */
  backendUrl?: string;
  /** Replaces the global `fetch`. */
  fetch?: FetchFn;
  /** Deadline of each HTTP request, ms (default 10 000). */
  requestTimeoutMs?: number;
}

/** What to join: a named playground, or matchmaking (optionally with criteria). */
export interface JoinOptions {
  /** Join this playground (1–64 of `A-Za-z0-9_.#-`); omit to let matchmaking choose. */
  playgroundId?: string;
  /** Matchmaking criteria (ignored when `playgroundId` is set). */
  criteria?: MatchCriteria;
}

/**
 * Entry point of the SDK: identity (guest, register, login, adopted session), profile, and joining
 * playgrounds through the load balancer.
 *
 * ```ts
 * const client = new PlexusClient({ balancerUrl: 'http://127.0.0.1:8080' });
 * await client.loginAsGuest({ firstName: 'Ada' });
 * const pg = await client.join({ playgroundId: 'expo-hall' });
 * pg.on('entityAdded', (e) => …);
 * pg.move({ position: { x: 1, y: 0, z: 0 } });
 * await pg.leave();
 * ```
 */
export class PlexusClient {
  /** The backend RPCs used by this client (for calls the client does not wrap). */
  readonly backend: BackendApi;
  /** The balancer API used by this client. */
  readonly balancer: BalancerApi;
  /** Session id of the logged-in user (undefined when logged out). Secret: never log it or put it in a URL. */
  sessionId: string | undefined;
  /** Expiry of the session (ISO-8601), when known. */
  expiresAt: string | undefined;
  /** The logged-in user's profile (User Simple model), refreshed by every auth/profile call. */
  user: UserSimple | undefined;
  private readonly playgroundOptions: PlaygroundOptions;

  constructor(options: PlexusClientOptions) {
    const { balancerUrl, backendUrl, fetch, requestTimeoutMs, ...playgroundOptions } = options;
    const http = {
      ...(fetch ? { fetch } : {}),
      ...(requestTimeoutMs !== undefined ? { timeoutMs: requestTimeoutMs } : {}),
    };
    this.balancer = new BalancerApi(balancerUrl, http);
    this.backend = new BackendApi(backendUrl ?? balancerUrl, http);
    this.playgroundOptions = playgroundOptions;
    this.sessionId = undefined;
    this.expiresAt = undefined;
    this.user = undefined;
  }

  /** True when a session is held. */
  get loggedIn(): boolean {
    return this.sessionId !== undefined;
  }

  /** Creates an account (auth.register) and logs in with it. */
  async register(input: RegisterInput): Promise<UserSimple> {
    return this.adopt(await this.backend.register(input));
  }

  /** Logs in with email and password (auth.login). */
  async login(email: string, password: string): Promise<UserSimple> {
    return this.adopt(await this.backend.login(email, password));
  }

  /** Logs in as a guest with a name (auth.guest). */
  async loginAsGuest(input: GuestInput): Promise<UserSimple> {
    return this.adopt(await this.backend.guest(input));
  }

  /**
   * Adopts a session obtained elsewhere (another tab, a server). Validates it with profile.get:
   * throws (and keeps the previous session) when it is unknown, expired or revoked.
   */
  async useSession(sessionId: string): Promise<UserSimple> {
    const { user } = await this.backend.getProfile(sessionId);
    this.sessionId = sessionId;
    this.expiresAt = undefined;
    this.user = user;
    return user;
  }

  /** Fetches the logged-in user's profile (profile.get). */
  async getProfile(): Promise<UserSimple> {
    const { user } = await this.backend.getProfile(this.requireSession());
    this.user = user;
    return user;
  }

  /** Changes fields of the logged-in user's profile (profile.update), e.g. `{ privacyMode: 1 }` for incognito. */
  async updateProfile(update: ProfileUpdate): Promise<UserSimple> {
    const { user } = await this.backend.updateProfile(this.requireSession(), update);
    this.user = user;
    return user;
  }

  /**
   * Revokes the session (auth.logout) and forgets it locally. A session the backend already
   * considers invalid is forgotten silently; other failures are thrown after forgetting it.
   */
  async logout(): Promise<void> {
    const sessionId = this.sessionId;
    if (sessionId === undefined) return;
    this.sessionId = undefined;
    this.expiresAt = undefined;
    this.user = undefined;
    try {
      await this.backend.logout(sessionId);
    } catch (err) {
      if (err instanceof PlexusError && err.is('AUTH_INVALID_SESSION')) return;
      throw err;
    }
  }

  /**
   * Joins a playground: asks the balancer for an endpoint and ticket (named playground, or
   * matchmaking when no `playgroundId` is given), connects to the dedicated server and resolves once
   * the welcome snapshot is in (`pg.entities` complete, own avatar at `pg.selfId`). `K` types the
   * props of the playground type's entity kinds (`client.join<OpenWorldKinds>(…)`; see KindMap).
   */
  async join<K extends KindMap = KindMap>(options: JoinOptions = {}): Promise<Playground<K>> {
    const sessionId = this.requireSession();
    const { playgroundId, criteria } = options;
    if (playgroundId !== undefined && !PLAYGROUND_ID_PATTERN.test(playgroundId)) {
      throw PlexusError.of(
        'COMMON_BAD_REQUEST',
        'A playground id is 1–64 characters of letters, digits, "-", "_", "." or "#"',
      );
    }
    const grant =
      playgroundId !== undefined
        ? await this.balancer.getEndpointPlaygroundId(sessionId, playgroundId)
        : await this.balancer.getEndpoint(sessionId, criteria);
    return connectPlayground<K>(grant, this.playgroundOptions);
  }

  private adopt(result: AuthResult): UserSimple {
    this.sessionId = result.sessionId;
    this.expiresAt = result.expiresAt;
    this.user = result.user;
    return result.user;
  }

  private requireSession(): string {
    if (this.sessionId === undefined) {
      throw PlexusError.of(
        'AUTH_SESSION_REQUIRED',
        'Log in first (loginAsGuest, login, register or useSession)',
      );
    }
    return this.sessionId;
  }
}
