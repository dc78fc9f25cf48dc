import {
  type AuthResult,
  type GuestInput,
  type JsonValue,
  type PartyView,
  PLAYGROUND_ID_PATTERN,
  type PlaygroundListing,
  type PlexusEventEnvelope,
  type ProfileUpdate,
  type RegisterInput,
  type UserSimple,
} from '@plexus/protocol';
import type { EndpointResolver } from './connection/resumer.ts';
import { Emitter } from './emitter.ts';
import { PlexusError } from './errors.ts';
import { BackendApi } from './http/backend-api.ts';
import { BalancerApi, type MatchCriteria } from './http/balancer-api.ts';
import type { FetchFn } from './http/request.ts';
import { UrlPool } from './http/url-pool.ts';
import type { KindMap } from './kinds.ts';
import { connectPlayground, type Playground } from './playground.ts';
import type { PlaygroundOptions } from './playground-types.ts';

/** Options of {@link PlexusClient}. */
export interface PlexusClientOptions extends PlaygroundOptions {
  /**
   * Base URL of the load balancer, e.g. `http://127.0.0.1:8080` (in the demo: `location.origin`), or
   * the URLs of several balancers sharing one cluster: each request starts at the last one that
   * answered (a random one at first) and moves on to the next when one is unreachable or
   * unavailable.
   */
  balancerUrl: string | readonly string[];
  /** Base URL(s) of the backend's client RPCs; defaults to `balancerUrl` (the balancer proxies `/api/v0/rpc/*`). */
  backendUrl?: string | readonly string[];
  /** Replaces the global `fetch`. */
  fetch?: FetchFn;
  /** Deadline of each HTTP request, ms (default 10 000). */
  requestTimeoutMs?: number;
}

/** What to join: a named playground, or matchmaking (optionally with criteria, as a party). */
export interface JoinOptions {
  /** Join this playground (1–64 of `A-Za-z0-9_.#-`); omit to let matchmaking choose. */
  playgroundId?: string;
  /** Invite code of a private playground (with `playgroundId`). */
  inviteCode?: string;
  /** Matchmaking criteria: `{ playgroundType?, tags?, region? }` (ignored when `playgroundId` is set). */
  criteria?: MatchCriteria;
  /** Matchmake as this party: every member lands in the same instance (ignored with `playgroundId`). */
  partyId?: string;
}

/** Filter of {@link PlexusClient.browsePlaygrounds} (every field optional). */
export interface BrowseFilter {
  type?: string;
  /** The playground must carry all of these tags. */
  tags?: string[];
  region?: string;
  /** 1–200 (default 50). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** A page of {@link PlexusClient.browsePlaygrounds}. */
export interface BrowsePage {
  playgrounds: PlaygroundListing[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Events of a {@link PlexusClient} and the arguments their listeners receive. */
export type ClientEvents = {
  /**
   * A published event (backend `events.publish`, or another server's user) reached this user, through
   * `playground` — the joined playground whose connection carried it. At most once, in order per sender.
   */
  event: [event: PlexusEventEnvelope, playground: Playground];
};

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
  private readonly emitter = new Emitter<ClientEvents>();

  constructor(options: PlexusClientOptions) {
    const { balancerUrl, backendUrl, fetch, requestTimeoutMs, ...playgroundOptions } = options;
    const http = {
      ...(fetch ? { fetch } : {}),
      ...(requestTimeoutMs !== undefined ? { timeoutMs: requestTimeoutMs } : {}),
    };
    // One pool when the balancers also proxy the backend: both APIs keep to the balancer that answers.
    const balancers = new UrlPool(balancerUrl);
    this.balancer = new BalancerApi(balancers, http);
    this.backend = new BackendApi(backendUrl ?? balancers, http);
    this.playgroundOptions = playgroundOptions;
    this.sessionId = undefined;
    this.expiresAt = undefined;
    this.user = undefined;
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  /** Removes a listener added with {@link on}. */
  off<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): void {
    this.emitter.off(event, listener);
  }

  /**
   * Calls any client RPC of the backend (`POST /api/v0/rpc/<method>`), with the held session as
   * Bearer when there is one; resolves its `data` (e.g. `client.rpc('party.create')`).
   */
  rpc<T = unknown>(method: string, body: { [key: string]: JsonValue } = {}): Promise<T> {
    return this.backend.rpc<T>(method, body, this.sessionId);
  }

  /** The open public playgrounds of the catalogue (playgrounds.browse), by id, a page at a time. */
  browsePlaygrounds(filter: BrowseFilter = {}): Promise<BrowsePage> {
    return this.backend.rpc('playgrounds.browse', filter, this.requireSession());
  }

  /** The playground id an invite code opens (playgrounds.resolveInvite); join it with `{ playgroundId, inviteCode }`. */
  async resolveInvite(inviteCode: string): Promise<string> {
    const { playgroundId } = await this.backend.rpc<{ playgroundId: string }>(
      'playgrounds.resolveInvite',
      { inviteCode },
      this.requireSession(),
    );
    return playgroundId;
  }

  /** Creates a party led by this user (party.create), leaving any current one; share its `code`. */
  createParty(): Promise<PartyView> {
    return this.backend.rpc('party.create', {}, this.requireSession());
  }

  /** Joins the party with this code (party.join); then `join({ partyId })` matchmakes the party together. */
  joinParty(code: string): Promise<PartyView> {
    return this.backend.rpc('party.join', { code }, this.requireSession());
  }

  /** This user's party (party.get), or null. */
  async getParty(): Promise<PartyView | null> {
    return (await this.backend.rpc<{ party: PartyView | null }>('party.get', {}, this.requireSession()))
      .party;
  }

  /** Leaves the current party (party.leave); false when the user was in none. */
  async leaveParty(): Promise<boolean> {
    return (await this.backend.rpc<{ left: boolean }>('party.leave', {}, this.requireSession())).left;
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
   * When the connection drops, the playground handle resumes by itself through the balancers with
   * the client's current session (`reconnecting` / `reconnected`).
   */
  async join<K extends KindMap = KindMap>(options: JoinOptions = {}): Promise<Playground<K>> {
    const sessionId = this.requireSession();
    const { playgroundId, criteria, partyId, inviteCode } = options;
    if (playgroundId !== undefined && !PLAYGROUND_ID_PATTERN.test(playgroundId)) {
      throw PlexusError.of(
        'COMMON_BAD_REQUEST',
        'A playground id is 1–64 characters of letters, digits, "-", "_", "." or "#"',
      );
    }
    const grant =
      playgroundId !== undefined
        ? await this.balancer.getEndpointPlaygroundId(sessionId, playgroundId, { inviteCode })
        : await this.balancer.getEndpoint(sessionId, { criteria, partyId });
    // A resume goes back to the playground instance joined, whichever way it was chosen.
    const resolve: EndpointResolver = (resumeToken) =>
      this.balancer.getEndpointPlaygroundId(this.requireSession(), grant.playgroundId, {
        inviteCode,
        resumeToken,
      });
    const pg = await connectPlayground<K>(grant, this.playgroundOptions, resolve);
    pg.on('event', (event) => this.emitter.emit('event', event, pg as Playground));
    return pg;
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
