import { type EndpointGrant, HttpPaths, type MatchCriteria } from '@plexus/protocol';
import type { HttpOptions } from './request.ts';
import { UrlPool } from './url-pool.ts';

export type { MatchCriteria };

/** Optional fields of a matchmaking join (`getEndpoint`). */
export interface MatchRequest {
  /** What to look for: playground type, tags (all required), region. */
  criteria?: MatchCriteria | undefined;
  /** Join with a party: every member lands in the same playground instance, or none does. */
  partyId?: string | undefined;
}

/** Optional fields of a named join (`getEndpointPlaygroundId`). */
export interface NamedJoinRequest {
  /** Invite code of a private playground. */
  inviteCode?: string | undefined;
  /**
   * The resume token of the last WELCOME in this playground: the server restores the same avatar
   * (the SDK sends it by itself when it reconnects).
   */
  resumeToken?: string | undefined;
}

/**
 * The load balancer's join API. Both calls authenticate with the session id and answer an
 * {@link EndpointGrant}: the dedicated server's WebSocket endpoint and a short-lived, single-use
 * join ticket (≈30 s). With several balancer URLs, a call moves on to the next one when a balancer
 * is unreachable or unavailable (see {@link UrlPool}).
 */
export class BalancerApi {
  private readonly pool: UrlPool;
  private readonly http: HttpOptions;

  /** `baseUrl`: one balancer, a list of balancers, or a pool shared with another API. */
  constructor(baseUrl: string | readonly string[] | UrlPool, http: HttpOptions = {}) {
    this.pool = baseUrl instanceof UrlPool ? baseUrl : new UrlPool(baseUrl);
    this.http = http;
  }

  /** The balancer base URLs, in the order they are tried from the preferred one. */
  get urls(): readonly string[] {
    return this.pool.urls;
  }

  /** Matchmaking join: the backend picks the playground. */
  getEndpoint(sessionId: string, request: MatchRequest = {}): Promise<EndpointGrant> {
    return this.pool.post(HttpPaths.getEndpoint, { sessionId, ...defined(request) }, this.http);
  }

  /** Join the named playground (created on a server if nobody hosts it yet). */
  getEndpointPlaygroundId(
    sessionId: string,
    playgroundId: string,
    request: NamedJoinRequest = {},
  ): Promise<EndpointGrant> {
    return this.pool.post(
      HttpPaths.getEndpointPlaygroundId,
      { sessionId, playgroundId, ...defined(request) },
      this.http,
    );
  }
}

/** The fields of `request` that are set (JSON would drop undefined ones anyway; this keeps bodies tidy). */
function defined<T extends object>(request: T): Partial<T> {
  return Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined)) as Partial<T>;
}
