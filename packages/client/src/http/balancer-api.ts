import { type EndpointGrant, HttpPaths, type JsonValue } from '@plexus/protocol';
import { type HttpOptions, joinUrl, postEnvelope } from './request.ts';

/** Matchmaking criteria passed through to the backend (e.g. `{ region: 'eu' }`). */
export type MatchCriteria = { [key: string]: JsonValue };

/**
 * The load balancer's join API. Both calls authenticate with the session id and answer an
 * {@link EndpointGrant}: the dedicated server's WebSocket endpoint and a short-lived, single-use
 * join ticket (≈30 s).
 */
export class BalancerApi {
  private readonly baseUrl: string;
  private readonly http: HttpOptions;

  constructor(baseUrl: string, http: HttpOptions = {}) {
    this.baseUrl = baseUrl;
    this.http = http;
  }

  /** Matchmaking join: the backend picks the playground. */
  getEndpoint(sessionId: string, criteria?: MatchCriteria): Promise<EndpointGrant> {
    const body = criteria === undefined ? { sessionId } : { sessionId, criteria };
    return postEnvelope(joinUrl(this.baseUrl, HttpPaths.getEndpoint), body, this.http);
  }

  /** Join the named playground (created on a server if nobody hosts it yet). */
  getEndpointPlaygroundId(sessionId: string, playgroundId: string): Promise<EndpointGrant> {
    return postEnvelope(
      joinUrl(this.baseUrl, HttpPaths.getEndpointPlaygroundId),
      { sessionId, playgroundId },
      this.http,
    );
  }
}
