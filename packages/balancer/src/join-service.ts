import { AppError, isAppError, verifyResumeToken } from '@plexus/kit';
import type { BalancerToServer, EndpointGrant, PlayerRecord, UserSimple } from '@plexus/protocol';
import type { Logger } from 'pino';
import type { AnalyticsRecorder } from './analytics-recorder.ts';
import type { AuthCache } from './auth-cache.ts';
import type { BackendClient } from './backend-client.ts';
import type { ClusterStore } from './cluster-store.ts';
import type { BalancerMetrics } from './metrics.ts';
import type { RefusalReason } from './placement.ts';
import { newTicketId, type TicketSigner } from './tickets.ts';

export interface JoinServiceDeps {
  backend: BackendClient;
  authCache: AuthCache;
  store: ClusterStore;
  signer: TicketSigner;
  metrics: BalancerMetrics;
  analytics: Pick<AnalyticsRecorder, 'record'>;
  clusterSecret: string;
  /** Unredeemed tickets one user may hold at once (a new one for the same playground replaces). */
  maxHeldSeatsPerUser: number;
  /** Whether this balancer holds a server's control socket (it signs tickets only for those). */
  connected(serverId: string): boolean;
  /** Sends a control message to a server whose socket this balancer holds (else nothing). */
  notify(serverId: string, message: BalancerToServer): void;
  logger: Logger;
}

export interface MatchmadeJoin {
  criteria?: Record<string, unknown> | undefined;
  partyId?: string | undefined;
}

export interface NamedJoin {
  /** The resume token of the user's last welcome in this playground: come back as the same avatar. */
  resumeToken?: string | undefined;
  /** Joins a private playground. */
  inviteCode?: string | undefined;
}

const REFUSAL_MESSAGES: Record<RefusalReason, string> = {
  no_servers: 'No dedicated server is registered',
  playground_full: 'The server hosting this playground is full',
  no_capacity: 'No dedicated server has room',
  home_not_connected: 'The server hosting this playground is not connected to this balancer',
  seats_held: 'This user already holds the most unredeemed join tickets allowed',
};

/**
 * The join flow behind getEndpoint / getEndpointPlaygroundId: authenticate the session through the
 * backend (with a short cache), let the backend's matchmaking pick the playground instance, place it,
 * reserve a seat, sign a ticket. A refused join is recorded as an analytics event (never waited on).
 */
export class JoinService {
  readonly #d: JoinServiceDeps;
  /**
   * authChecks in flight by session id, so a burst from one session costs one backend call; with
   * the auth cache's generation they started under (a later join does not share an older check).
   */
  readonly #inflight = new Map<string, { call: Promise<UserSimple>; generation: number }>();

  constructor(deps: JoinServiceDeps) {
    this.#d = deps;
  }

  async authenticate(sessionId: string): Promise<UserSimple> {
    const cached = this.#d.authCache.get(sessionId);
    if (cached) return cached;
    const generation = this.#d.authCache.generation;
    const pending = this.#inflight.get(sessionId);
    if (pending?.generation === generation) return pending.call;
    const call = this.#authCheck(sessionId, generation).finally(() => {
      if (this.#inflight.get(sessionId)?.call === call) this.#inflight.delete(sessionId);
    });
    this.#inflight.set(sessionId, { call, generation });
    return call;
  }

  /** Matchmaking join: the backend picks the playground instance (the same for a whole party). */
  async joinMatchmade(sessionId: string, options: MatchmadeJoin = {}): Promise<EndpointGrant> {
    const attempt: Attempt = {};
    return this.#recordRefusal(attempt, async () => {
      const user = await this.authenticate(sessionId);
      attempt.userId = user.id;
      const playgroundId = await this.#d.backend.findPlayground(user.id, options.criteria, options.partyId);
      attempt.playgroundId = playgroundId;
      return this.grant(user, playgroundId);
    });
  }

  /**
   * Join a named playground. With a resume token (after a lost connection, a dead server or a
   * drain), the token must be the balancer-cluster's and name this user and playground instance; the
   * user skips matchmaking and enters even a full playground (they hold a seat there). Otherwise the
   * backend's matchmaking chooses the instance (`expo-hall#2` when `expo-hall` is full).
   */
  async joinPlayground(
    sessionId: string,
    playgroundId: string,
    options: NamedJoin = {},
  ): Promise<EndpointGrant> {
    const attempt: Attempt = { playgroundId };
    return this.#recordRefusal(attempt, async () => {
      const user = await this.authenticate(sessionId);
      attempt.userId = user.id;
      if (options.resumeToken !== undefined) {
        const claims = verifyResumeToken(this.#d.clusterSecret, options.resumeToken, this.#d.signer.now());
        if (!claims || claims.userId !== user.id || claims.playgroundId !== playgroundId) {
          throw new AppError('LB_RESUME_INVALID');
        }
        return this.grant(user, playgroundId, options.resumeToken);
      }
      const instanceId = await this.#d.backend.joinPlayground(user.id, playgroundId, options.inviteCode);
      attempt.playgroundId = instanceId;
      return this.grant(user, instanceId);
    });
  }

  /**
   * Places the playground and issues a ticket. Placement, seat reservation and the mapping are one
   * atomic step of the store, so concurrent joins (on any balancer) see each other's reservations.
   * A fresh ticket's server is then sent the user's record, read meanwhile, so that its admission
   * does not wait for players.join (docs/api.md, control `playerRecord`); without it (a failed
   * read) the server waits for players.join as before.
   */
  async grant(user: UserSimple, playgroundId: string, resumeToken?: string): Promise<EndpointGrant> {
    const { store, signer, metrics } = this.#d;
    const jti = newTicketId();
    const nowMs = signer.now();
    // Read beside placement and signing; sent only with a ticket actually issued.
    const record =
      resumeToken === undefined
        ? this.#d.backend.getPlayerRecord(user.id, playgroundId).catch(() => undefined) // logged there
        : undefined;
    const placed = await store.place({
      playgroundId,
      jtis: [jti],
      expiresAtMs: signer.expiryFor(nowMs),
      resume: resumeToken !== undefined,
      hold: { userId: user.id, max: this.#d.maxHeldSeatsPerUser },
      connected: this.#d.connected,
    });
    if (!placed.ok) {
      metrics.placementRefusals.inc({ reason: placed.reason });
      if (placed.reason === 'seats_held') throw new AppError('LB_TOO_MANY_HELD_SEATS');
      if (placed.reason === 'home_not_connected') throw new AppError('LB_SERVER_NOT_CONNECTED');
      throw new AppError('LB_NO_CAPACITY', REFUSAL_MESSAGES[placed.reason]);
    }
    if (placed.replaced) {
      metrics.playgroundsReplaced.inc();
      this.#d.logger.info(
        { playgroundId, serverId: placed.serverId },
        'playground of a dead server placed again; its new host restores the last checkpoint',
      );
    }
    try {
      const signed = await signer.sign({
        serverId: placed.serverId,
        playgroundId,
        user,
        jti,
        nowMs,
        resumeToken,
      });
      metrics.ticketsIssued.inc();
      if (record) this.#sendRecord(record, placed.serverId, jti, user.id, playgroundId);
      this.#d.logger.debug(
        {
          serverId: placed.serverId,
          playgroundId,
          userId: user.id,
          sticky: placed.sticky,
          resume: !!resumeToken,
        },
        'ticket issued',
      );
      return {
        endpoint: placed.endpoint,
        ticket: signed.ticket,
        serverId: placed.serverId,
        playgroundId,
        expiresAt: new Date(signed.expiresAtMs).toISOString(),
      };
    } catch (err) {
      await store.releaseSeats(placed.serverId, playgroundId, [jti]);
      throw err;
    }
  }

  #sendRecord(
    record: Promise<PlayerRecord | null | undefined>,
    serverId: string,
    jti: string,
    userId: string,
    playgroundId: string,
  ): void {
    void record.then((found) => {
      if (found === undefined) return;
      this.#d.notify(serverId, { type: 'playerRecord', jti, userId, playgroundId, record: found });
    });
  }

  async #recordRefusal(attempt: Attempt, join: () => Promise<EndpointGrant>): Promise<EndpointGrant> {
    try {
      return await join();
    } catch (err) {
      if (isAppError(err)) {
        this.#d.analytics.record({
          type: 'refused',
          at: this.#d.signer.now(),
          ...(attempt.userId === undefined ? {} : { userId: attempt.userId }),
          ...(attempt.playgroundId === undefined ? {} : { playgroundId: attempt.playgroundId }),
          data: { reason: err.errorName },
        });
      }
      throw err;
    }
  }

  async #authCheck(sessionId: string, generation: number): Promise<UserSimple> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const user = await this.#d.backend.getUserBySessionId(sessionId);
      this.#d.authCache.set(sessionId, user, generation);
      return user;
    } catch (err) {
      outcome = isAppError(err) && err.errorName === 'AUTH_INVALID_SESSION' ? 'invalid' : 'error';
      throw err;
    } finally {
      this.#d.metrics.authCheckDuration.observe({ outcome }, (performance.now() - started) / 1000);
    }
  }
}

interface Attempt {
  userId?: string;
  playgroundId?: string;
}
