import { AppError, parseInput, verifyResumeToken, z } from '@plexus/kit';
import { type DisplayProfile, PLAYGROUND_ID_PATTERN, type RelocateResult } from '@plexus/protocol';
import type { Logger } from 'pino';
import type { BackendClient } from './backend-client.ts';
import type { ClusterStore } from './cluster-store.ts';
import { displayProfileOf, newTicketId, type TicketSigner } from './tickets.ts';

/** Most users one relocation carries (a server's capacity is at most this in practice). */
export const RELOCATE_MAX_USERS = 10_000;

const profileSchema = z.object({
  firstName: z.string().max(256),
  lastName: z.string().max(256),
  privacyMode: z.number().int().min(0).max(1000),
  avatar: z.string().max(2048),
  avatar3D: z
    .object({
      assetId: z.string().max(256),
      assetSkins: z.record(z.string().max(256), z.string().max(2048)),
      avatarUrl: z.string().max(2048),
      avatarUserId: z.string().max(256),
    })
    .optional(),
  companyName: z.string().max(256),
  companyTitle: z.string().max(256),
});

const relocateParams = z.object({
  serverId: z.string(),
  playgroundId: z.string().regex(PLAYGROUND_ID_PATTERN),
  users: z
    .array(
      z.object({
        userId: z.string().min(1).max(128),
        profile: profileSchema,
        resumeToken: z.string().min(1).max(1024),
      }),
    )
    .max(RELOCATE_MAX_USERS),
});

export interface RelocatorOptions {
  store: ClusterStore;
  /** Current profiles: a user who turned incognito since their last admission arrives incognito. */
  backend: Pick<BackendClient, 'getUsersByIds'>;
  signer: TicketSigner;
  clusterSecret: string;
  logger: Logger;
  /** Whether this balancer holds a server's control socket (only those can verify its tickets). */
  connected(serverId: string): boolean;
}

/**
 * `lb.relocate`: a draining server asks for a new home for one of its playgrounds. The playground is
 * placed on another live, non-draining server (its current home if a join already moved it, else the
 * one with the most headroom for all its users), the map points there, and each user whose resume
 * token is genuine gets a ticket for the new server carrying that token (`rt`), so the new host
 * restores their avatar. A user whose token does not verify gets no ticket: their server closes them
 * with 4014 and they resume through the balancer like after a failure. Each ticket carries the
 * profile the backend holds now, not the one of the user's last admission (docs/api.md, Privacy).
 */
export class Relocator {
  readonly #o: RelocatorOptions;

  constructor(options: RelocatorOptions) {
    this.#o = options;
  }

  async relocate(rawParams: unknown): Promise<RelocateResult> {
    const params = parseInput(relocateParams, rawParams);
    const { store, signer, clusterSecret, logger } = this.#o;
    // Asking to relocate means draining, even before the server's next load report says so.
    await store.setDraining(params.serverId);
    const nowMs = signer.now();
    const users = params.users.filter((u) => {
      const claims = verifyResumeToken(clusterSecret, u.resumeToken, nowMs);
      return (
        claims !== undefined && claims.userId === u.userId && claims.playgroundId === params.playgroundId
      );
    });
    if (users.length < params.users.length) {
      logger.warn(
        { playgroundId: params.playgroundId, refused: params.users.length - users.length },
        'relocation: resume tokens that do not verify get no ticket',
      );
    }
    const profiles = await this.#currentProfiles(users);
    const jtis = users.map(() => newTicketId());
    const placed = await store.place({
      playgroundId: params.playgroundId,
      jtis,
      expiresAtMs: signer.expiryFor(nowMs),
      seats: users.length,
      exclude: params.serverId,
      connected: this.#o.connected,
    });
    if (!placed.ok) {
      throw new AppError('LB_NO_CAPACITY', `No other server has room for playground ${params.playgroundId}`);
    }
    try {
      const signed = await Promise.all(
        users.map((u, i) =>
          signer.sign({
            serverId: placed.serverId,
            playgroundId: params.playgroundId,
            userId: u.userId,
            profile: profiles.get(u.userId) ?? displayProfile(u.profile),
            jti: jtis[i] as string,
            nowMs,
            resumeToken: u.resumeToken,
          }),
        ),
      );
      const tickets: Record<string, string> = {};
      users.forEach((u, i) => {
        tickets[u.userId] = (signed[i] as { ticket: string }).ticket;
      });
      logger.info(
        {
          playgroundId: params.playgroundId,
          from: params.serverId,
          to: placed.serverId,
          users: users.length,
        },
        'playground relocated',
      );
      return { serverId: placed.serverId, endpoint: placed.endpoint, tickets };
    } catch (err) {
      await store.releaseSeats(placed.serverId, params.playgroundId, jtis);
      throw err;
    }
  }

  /**
   * The backend's current profile of each user. Without an answer the server's copy is used: it is
   * the profile of the user's latest admission, and a drain must not wait on a backend outage.
   */
  async #currentProfiles(users: readonly { userId: string }[]): Promise<Map<string, DisplayProfile>> {
    const profiles = new Map<string, DisplayProfile>();
    if (users.length === 0) return profiles;
    try {
      const current = await this.#o.backend.getUsersByIds(users.map((u) => u.userId));
      for (const user of current) profiles.set(user.id, displayProfileOf(user));
    } catch (err) {
      this.#o.logger.warn({ err }, "relocation: current profiles unavailable, using the server's");
    }
    return profiles;
  }
}

function displayProfile(parsed: z.output<typeof profileSchema>): DisplayProfile {
  const { avatar3D, ...rest } = parsed;
  return avatar3D === undefined ? rest : { ...rest, avatar3D };
}
