import { randomUUID } from 'node:crypto';
import { AppError } from '@plexus/kit';
import { PARTY_MAX_SIZE, type PartyView } from '@plexus/protocol';
import type { PartyMemberRecord, PartyRecord, PartyStore } from '../stores/party-store.ts';
import { PARTY_CODE_LENGTH, randomCode } from './codes.ts';

export interface PartyServiceOptions {
  parties: PartyStore;
  clock: () => number;
}

/** A code collision is a one-in-10^12 event; a few tries make it vanish. */
const CODE_ATTEMPTS = 5;

/**
 * Parties: users who ask matchmaking together (`matchmaking.findPlayground` with `partyId`) land in
 * one instance, or none does. Creating or joining a party leaves the one the user was in.
 */
export class PartyService {
  readonly #o: PartyServiceOptions;

  constructor(options: PartyServiceOptions) {
    this.#o = options;
  }

  async create(userId: string): Promise<PartyView> {
    for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt++) {
      const party = { id: randomUUID(), code: randomCode(PARTY_CODE_LENGTH), userId, now: this.#o.clock() };
      if (await this.#o.parties.create(party)) return this.#current(userId);
    }
    throw new AppError('COMMON_INTERNAL', 'Could not draw an unused party code');
  }

  async join(userId: string, code: string): Promise<PartyView> {
    const outcome = await this.#o.parties.join(code, userId, PARTY_MAX_SIZE, this.#o.clock());
    if ('refused' in outcome) {
      throw outcome.refused === 'full'
        ? new AppError('MATCH_PARTY_FULL', `A party holds at most ${PARTY_MAX_SIZE} members`)
        : new AppError('MATCH_PARTY_NOT_FOUND', 'No party has this code');
    }
    return toView(outcome.party, userId);
  }

  /** True when the user was in a party. */
  async leave(userId: string): Promise<boolean> {
    return this.#o.parties.leave(userId, this.#o.clock());
  }

  async get(userId: string): Promise<PartyView | null> {
    const party = await this.#o.parties.ofUser(userId);
    return party ? toView(party, userId) : null;
  }

  async #current(userId: string): Promise<PartyView> {
    const party = await this.#o.parties.ofUser(userId);
    if (!party) throw new AppError('COMMON_INTERNAL', 'The new party vanished');
    return toView(party, userId);
  }
}

/**
 * The party as `viewerId` sees it: an incognito member other than the viewer shows as `Anonymous`
 * with no user id (nor as leader), so nothing links them to their id elsewhere (docs/api.md,
 * "Parties").
 */
function toView(party: PartyRecord, viewerId: string): PartyView {
  const hidden = (m: PartyMemberRecord) => m.incognito && m.userId !== viewerId;
  const leader = party.members.find((m) => m.userId === party.leaderId);
  return {
    partyId: party.id,
    code: party.code,
    leaderId: leader && hidden(leader) ? null : party.leaderId,
    maxSize: PARTY_MAX_SIZE,
    members: party.members.map((m) => ({
      userId: hidden(m) ? null : m.userId,
      displayName: m.displayName,
      joinedAt: m.joinedAt,
    })),
  };
}
