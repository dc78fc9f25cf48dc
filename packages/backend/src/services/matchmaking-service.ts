import { AppError } from '@plexus/kit';
import type { MatchCriteria, MatchmakingFindParams, MatchmakingJoinParams } from '@plexus/protocol';
import type { Repository } from '../storage/repository.ts';
import type { SqlDb, SqlExecutor } from '../storage/sql-db.ts';
import { type CatalogueRecord, type CatalogueStore, catalogueLockKey } from '../stores/catalogue-store.ts';
import type { PartyStore } from '../stores/party-store.ts';
import { type PartyAnchor, parseInstanceId, type Seat, type SeatOutcome } from '../stores/seat-policy.ts';
import {
  AutoPool,
  CataloguePool,
  catalogueSeatsOfUser,
  findPartyAnchor,
  type SeatPool,
  seatGroup,
  seatUser,
} from '../stores/seat-pools.ts';

export interface MatchmakingServiceOptions {
  db: SqlDb;
  repo: Pick<Repository, 'findUserById'>;
  catalogue: CatalogueStore;
  parties: PartyStore;
  clock: () => number;
  /** Seats per auto-opened public playground. */
  playgroundCapacity: number;
  /** How long an assigned seat counts towards its playground's population. */
  seatTtlMs: number;
  onAssigned?: (outcome: SeatOutcome) => void;
}

export const DEFAULT_PLAYGROUND_TYPE = 'lobby';

/** Catalogue playgrounds one request considers, oldest first. */
const MAX_CANDIDATES = 20;
/** A party's seating restarts when a member seated it elsewhere meanwhile; this many times at most. */
const PARTY_ATTEMPTS = 3;

/** A pool to try, named before its transaction opens (the lock key must be known up front). */
type PoolRef = { kind: 'catalogue'; id: string } | { kind: 'auto'; type: string };

/**
 * Matchmaking. `findPlayground` fills the open public catalogue playgrounds matching the criteria
 * (lowest instance with room first, opening `id#n` up to maxInstances) and, when none match, the
 * auto-opened `public-<type>-<n>` playgrounds. `joinPlayground` places a user in a named one.
 *
 * Seats are reservations counted for `seatTtlMs` (the backend does not see live occupancy); every
 * decision runs in one transaction holding the pool's lock, so concurrent requests never overfill
 * an instance.
 */
export class MatchmakingService {
  readonly #o: MatchmakingServiceOptions;

  constructor(options: MatchmakingServiceOptions) {
    this.#o = options;
  }

  async findPlayground(params: MatchmakingFindParams): Promise<string> {
    const now = this.#o.clock();
    await this.#requireUser(params.userId);
    const criteria: MatchCriteria = params.criteria ?? {};
    const type = criteria.playgroundType ?? DEFAULT_PLAYGROUND_TYPE;
    const candidates = await this.#o.catalogue.list({
      type,
      tags: criteria.tags,
      region: criteria.region,
      visibility: 'public',
      order: 'age',
      limit: MAX_CANDIDATES,
    });
    const refs: PoolRef[] =
      candidates.length > 0
        ? candidates.map((c) => ({ kind: 'catalogue', id: c.id }))
        : [{ kind: 'auto', type }];
    if (params.partyId !== undefined) return this.#findForParty(params.userId, params.partyId, refs, now);

    // A user who already sits in one of the candidates keeps that seat.
    const held = await catalogueSeatsOfUser(
      this.#o.db,
      params.userId,
      candidates.map((c) => c.id),
      now - this.#o.seatTtlMs,
    );
    const ordered = [...refs].sort((a, b) => Number(isHeld(b, held)) - Number(isHeld(a, held)));
    for (const ref of ordered) {
      const seat = await this.#inPool(ref, now, async (tx, pool) =>
        pool
          ? seatUser(tx, pool, { userId: params.userId, now, freshAfter: now - this.#o.seatTtlMs })
          : undefined,
      );
      if (seat) return this.#assigned(seat);
    }
    throw new AppError('MATCH_PLAYGROUND_FULL', 'Every instance of every matching playground is full');
  }

  async joinPlayground(params: MatchmakingJoinParams): Promise<string> {
    const { userId, playgroundId, inviteCode } = params;
    const { base, instance } = parseInstanceId(playgroundId);
    const record = await this.#o.catalogue.get(base);
    if (!record) {
      // Not in the catalogue: an ad-hoc playground, opened by whoever names it.
      if (inviteCode !== undefined) throw new AppError('MATCH_INVITE_INVALID');
      return playgroundId;
    }
    if (!(instance >= 1 && instance <= record.maxInstances)) {
      throw new AppError(
        'MATCH_PLAYGROUND_NOT_FOUND',
        `${base} has instances ${base} to ${base}#${record.maxInstances}; ${playgroundId} is none of them`,
      );
    }
    if (inviteCode !== undefined && inviteCode !== record.inviteCode)
      throw new AppError('MATCH_INVITE_INVALID');
    const now = this.#o.clock();
    const freshAfter = now - this.#o.seatTtlMs;
    await this.#requireUser(userId);
    const seat = await this.#o.db.transaction(
      async (tx) => {
        const current = await this.#o.catalogue.get(base, tx);
        if (!current) throw new AppError('MATCH_PLAYGROUND_NOT_FOUND');
        const pool = new CataloguePool(current);
        if (current.closedAt === null) {
          if (current.visibility === 'private' && inviteCode === undefined) {
            // Only its invite code opens a private playground; a user who already holds a seat in
            // it (they came with the code) may come back without it (docs/api.md, joinPlayground).
            await pool.prune(tx, freshAfter);
            if (!(await pool.seatsOf(tx, [userId])).has(userId)) {
              throw new AppError(
                'MATCH_INVITE_INVALID',
                'A private playground is joined with its invite code',
              );
            }
          }
          return seatUser(tx, pool, {
            userId,
            now,
            freshAfter,
            prefer: playgroundId.includes('#') ? playgroundId : undefined,
          });
        }
        // Closed: no new joins, but a user holding a seat may come back to it.
        await pool.prune(tx, freshAfter);
        const own = (await pool.seatsOf(tx, [userId])).get(userId);
        if (!own) throw new AppError('MATCH_PLAYGROUND_CLOSED');
        await pool.refresh(tx, userId, now);
        return { playgroundId: own.playgroundId, outcome: 'kept' } satisfies Seat;
      },
      { lockKey: catalogueLockKey(base) },
    );
    if (!seat) throw new AppError('MATCH_PLAYGROUND_FULL');
    return this.#assigned(seat);
  }

  /**
   * A party member's seat: the one the party already gave them, else one beside the party (its
   * instance must have room), else — the party sits nowhere yet — every member in one instance
   * with room for all of them, trying the pools in order.
   */
  async #findForParty(
    userId: string,
    partyId: string,
    refs: readonly PoolRef[],
    now: number,
  ): Promise<string> {
    const freshAfter = now - this.#o.seatTtlMs;
    const anchorOf = async (ex: SqlExecutor) =>
      (await findPartyAnchor(ex, partyId, freshAfter, userId)) ??
      (await findPartyAnchor(ex, partyId, freshAfter));
    for (let attempt = 0; attempt < PARTY_ATTEMPTS; attempt++) {
      const anchor = await anchorOf(this.#o.db);
      const tries: PoolRef[] = anchor
        ? [
            anchor.kind === 'catalogue'
              ? { kind: 'catalogue', id: anchor.catalogueId }
              : { kind: 'auto', type: anchor.type },
          ]
        : [...refs];
      let retry = false;
      for (const ref of tries) {
        const result = await this.#inPool(
          ref,
          now,
          async (tx, pool, record): Promise<Seat | 'retry' | 'skip'> => {
            if (!(await this.#o.parties.lock(tx, partyId, now))) throw new AppError('MATCH_PARTY_NOT_FOUND');
            const members = (await this.#o.parties.memberIds(tx, partyId)) ?? [];
            if (!members.includes(userId)) throw new AppError('MATCH_PARTY_NOT_MEMBER');
            if (!sameAnchor(await anchorOf(tx), anchor)) return 'retry';
            if (anchor) {
              const closed = record !== undefined && record.closedAt !== null;
              const seat =
                pool && (await this.#seatBesideParty(tx, pool, closed, anchor, userId, partyId, now));
              if (!seat)
                throw new AppError('MATCH_PARTY_NO_ROOM', 'The instance of the party has no room left');
              return seat;
            }
            if (!pool) return 'skip';
            const room = await seatGroup(tx, pool, { userIds: members, partyId, now, freshAfter });
            return room
              ? { playgroundId: room.playgroundId, outcome: room.seated === 0 ? 'opened' : 'joined' }
              : 'skip';
          },
          { anyState: anchor !== undefined },
        );
        if (result === 'retry') {
          retry = true;
          break;
        }
        if (result !== 'skip') return this.#assigned(result);
      }
      if (!retry) break;
    }
    throw new AppError('MATCH_PARTY_NO_ROOM');
  }

  /** The caller's own seat in the party's instance, or a new one there when it has room. */
  async #seatBesideParty(
    tx: SqlExecutor,
    pool: SeatPool,
    closed: boolean,
    anchor: PartyAnchor,
    userId: string,
    partyId: string,
    now: number,
  ): Promise<Seat | undefined> {
    const freshAfter = now - this.#o.seatTtlMs;
    await pool.prune(tx, freshAfter);
    const own = (await pool.seatsOf(tx, [userId])).get(userId);
    if (own?.playgroundId === anchor.playgroundId && own.partyId === partyId) {
      await pool.refresh(tx, userId, now);
      return { playgroundId: own.playgroundId, outcome: 'kept' };
    }
    // A closed playground takes no one new, not even a party member.
    if (closed) return undefined;
    return seatUser(tx, pool, {
      userId,
      now,
      freshAfter,
      prefer: anchor.playgroundId,
      strict: true,
      partyId,
    });
  }

  /**
   * Runs `fn` in a transaction holding the pool's lock. For a catalogue ref the playground is read
   * again inside it: `pool` is undefined when it is gone, closed or no longer public (unless
   * `anyState`, where the caller judges).
   */
  async #inPool<T>(
    ref: PoolRef,
    now: number,
    fn: (tx: SqlExecutor, pool: SeatPool | undefined, record: CatalogueRecord | undefined) => Promise<T>,
    options: { anyState?: boolean } = {},
  ): Promise<T> {
    if (ref.kind === 'auto') {
      const pool = new AutoPool(ref.type, this.#o.playgroundCapacity, now);
      return this.#o.db.transaction((tx) => fn(tx, pool, undefined), { lockKey: pool.lockKey });
    }
    return this.#o.db.transaction(
      async (tx) => {
        const record = await this.#o.catalogue.get(ref.id, tx);
        const usable = record && (options.anyState || isMatchable(record));
        return fn(tx, usable ? new CataloguePool(record) : undefined, record);
      },
      { lockKey: catalogueLockKey(ref.id) },
    );
  }

  async #requireUser(userId: string): Promise<void> {
    if (!(await this.#o.repo.findUserById(userId))) {
      throw new AppError('COMMON_BAD_REQUEST', 'Invalid request: userId: no such user');
    }
  }

  #assigned(seat: Seat): string {
    this.#o.onAssigned?.(seat.outcome);
    return seat.playgroundId;
  }
}

function isMatchable(record: CatalogueRecord): boolean {
  return record.closedAt === null && record.visibility === 'public';
}

function isHeld(ref: PoolRef, held: ReadonlySet<string>): boolean {
  return ref.kind === 'catalogue' && held.has(ref.id);
}

function sameAnchor(a: PartyAnchor | undefined, b: PartyAnchor | undefined): boolean {
  return a?.playgroundId === b?.playgroundId;
}
