/**
 * Playground catalogue, parties and matchmaking: the backend RPC shapes the balancer, the SDK and
 * operator tools share (docs/api.md "Playground catalogue", "Matchmaking").
 */

export type PlaygroundVisibility = 'public' | 'private';

/**
 * A catalogue playground as operators see it. Its instances are `id` (the first), `id#2`, `id#3`…
 * up to `maxInstances`, each holding up to `capacity` players.
 */
export interface CataloguePlayground {
  /** 1-56 characters of letters, digits, `-`, `_`, `.` (no `#`: that marks an instance). */
  id: string;
  name: string;
  /** Playground type (PlaygroundType.name on the dedicated servers). */
  type: string;
  capacity: number;
  visibility: PlaygroundVisibility;
  tags: string[];
  /** '' when the playground is not tied to a region. */
  region: string;
  maxInstances: number;
  /** Private playgrounds only: the code users join with (`playgrounds.resolveInvite`). */
  inviteCode: string | null;
  /** Epoch milliseconds when it was closed to new joins; null while open. */
  closedAt: number | null;
  /** Users holding a seat (a matchmaking reservation) across its instances. */
  population: number;
  createdAt: number;
  updatedAt: number;
}

/** A public playground as users browse it (`playgrounds.browse`). */
export interface PlaygroundListing {
  id: string;
  name: string;
  type: string;
  tags: string[];
  region: string;
  capacity: number;
  maxInstances: number;
  population: number;
}

/** Largest party. */
export const PARTY_MAX_SIZE = 8;

export interface PartyMember {
  /** Null for an incognito member (privacyMode 1) seen by anyone but themselves. */
  userId: string | null;
  /** "First Last", or "Anonymous" for an incognito user (privacyMode 1). */
  displayName: string;
  /** Epoch milliseconds. */
  joinedAt: number;
}

/** `party.create` and `party.join` answer this; `party.get` answers `{ party: PartyView | null }`. */
export interface PartyView {
  partyId: string;
  /** Code the others join with (`party.join`). */
  code: string;
  /** Null when the leader is incognito (privacyMode 1) and the viewer is someone else. */
  leaderId: string | null;
  maxSize: number;
  /** In joining order. */
  members: PartyMember[];
}

/** What a user asks matchmaking for; every field narrows the choice. */
export interface MatchCriteria {
  /** Default `lobby`. */
  playgroundType?: string | undefined;
  /** The playground must carry every one of these tags. */
  tags?: string[] | undefined;
  region?: string | undefined;
}

/** `matchmaking.findPlayground` (partner RPC). With `partyId`, every member lands in one instance. */
export interface MatchmakingFindParams {
  userId: string;
  criteria?: MatchCriteria | undefined;
  partyId?: string | undefined;
}

/** `matchmaking.joinPlayground` (partner RPC): the instance of a named playground to join. */
export interface MatchmakingJoinParams {
  userId: string;
  /** A catalogue id, an explicit instance (`expo-hall#2`), or any other (ad-hoc) playground id. */
  playgroundId: string;
  inviteCode?: string | undefined;
}

/** Answer of both matchmaking RPCs. */
export interface MatchmakingResult {
  playgroundId: string;
}
