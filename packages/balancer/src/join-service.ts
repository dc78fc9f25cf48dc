import { AppError, isAppError } from '@plexus/kit';
import type { EndpointGrant, UserSimple } from '@plexus/protocol';
import type { Logger } from 'pino';
import type { AuthCache } from './auth-cache.ts';
import type { BackendClient } from './backend-client.ts';
import type { BalancerMetrics } from './metrics.ts';
import { placePlayground, type RefusalReason } from './placement.ts';
import type { ServerRegistry } from './registry.ts';
import type { SeatLedger } from './seat-ledger.ts';
import { newTicketId, type TicketSigner } from './tickets.ts';

export interface JoinServiceDeps {
  backend: BackendClient;
  authCache: AuthCache;
  registry: ServerRegistry;
  ledger: SeatLedger;
  signer: TicketSigner;
  metrics: BalancerMetrics;
  logger: Logger;
}

const REFUSAL_MESSAGES: Record<RefusalReason, string> = {
  no_servers: 'No dedicated server is registered',
  playground_full: 'The server hosting this playground is full',
  no_capacity: 'No dedicated server has room',
};

/**
 * The join flow behind getEndpoint / getEndpointPlaygroundId: authenticate the session through the
 * backend (with a short cache), place the playground, reserve a seat, sign a ticket.
 */
export class JoinService {
  readonly #d: JoinServiceDeps;
  /** authChecks in flight by session id, so a burst from one session costs one backend call. */
  readonly #inflight = new Map<string, Promise<UserSimple>>();

  constructor(deps: JoinServiceDeps) {
    this.#d = deps;
  }

  async authenticate(sessionId: string): Promise<UserSimple> {
    const cached = this.#d.authCache.get(sessionId);
    if (cached) return cached;
    const pending = this.#inflight.get(sessionId);
    if (pending) return pending;
    const call = this.#authCheck(sessionId).finally(() => this.#inflight.delete(sessionId));
    this.#inflight.set(sessionId, call);
    return call;
  }

  /** Matchmaking join: the backend picks the playground, the balancer places it. */
  async joinMatchmade(sessionId: string, criteria?: Record<string, unknown>): Promise<EndpointGrant> {
    const user = await this.authenticate(sessionId);
    const playgroundId = await this.#d.backend.findPlayground(user.id, criteria);
    return this.grant(user, playgroundId);
  }

  /** Join a named playground. */
  async joinPlayground(sessionId: string, playgroundId: string): Promise<EndpointGrant> {
    const user = await this.authenticate(sessionId);
    return this.grant(user, playgroundId);
  }

  /**
   * Places the playground and issues a ticket. Placement, seat reservation and the mapping happen in
   * one synchronous step, so concurrent joins always see each other's reservations.
   */
  async grant(user: UserSimple, playgroundId: string): Promise<EndpointGrant> {
    const { registry, ledger, signer, metrics } = this.#d;
    const placement = placePlayground(registry.snapshot(), { playgroundId }, ledger.pendingByServer());
    if (!placement.ok) {
      metrics.placementRefusals.inc({ reason: placement.reason });
      throw new AppError('LB_NO_CAPACITY', REFUSAL_MESSAGES[placement.reason]);
    }
    const server = registry.get(placement.serverId);
    if (!server) throw new AppError('COMMON_INTERNAL', 'placed on an unknown server');
    const jti = newTicketId();
    const nowMs = signer.now();
    ledger.reserve({ jti, serverId: server.serverId, playgroundId, expiresAtMs: signer.expiryFor(nowMs) });
    registry.assign(playgroundId, server.serverId);
    try {
      const signed = await signer.sign({ serverId: server.serverId, playgroundId, user, jti, nowMs });
      metrics.ticketsIssued.inc();
      this.#d.logger.debug(
        { serverId: server.serverId, playgroundId, userId: user.id, sticky: placement.sticky },
        'ticket issued',
      );
      return {
        endpoint: server.endpoint,
        ticket: signed.ticket,
        serverId: server.serverId,
        playgroundId,
        expiresAt: new Date(signed.expiresAtMs).toISOString(),
      };
    } catch (err) {
      ledger.release(server.serverId, jti);
      throw err;
    }
  }

  async #authCheck(sessionId: string): Promise<UserSimple> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const user = await this.#d.backend.getUserBySessionId(sessionId);
      this.#d.authCache.set(sessionId, user);
      return user;
    } catch (err) {
      outcome = isAppError(err) && err.errorName === 'AUTH_INVALID_SESSION' ? 'invalid' : 'error';
      throw err;
    } finally {
      this.#d.metrics.authCheckDuration.observe({ outcome }, (performance.now() - started) / 1000);
    }
  }
}
