import type { PlaygroundLoad } from '@plexus/protocol';
import type { PlacementRequest, RefusalReason } from './placement.ts';

/**
 * The balancer's cluster state behind one interface with two implementations: in memory (one
 * balancer) and in Redis (several balancers sharing it). It holds the server registry, the
 * playground → server map with fencing epochs, and the seats reserved by unredeemed tickets.
 * Placement decisions are made by the pure `placePlayground` on a store `snapshot`; the store only
 * `commit`s them, atomically and only if nothing changed since (a revision compare-and-set). The
 * loop joining the three is `placeInStore` (store-placement.ts); `place` is that loop.
 */
export interface ClusterStore {
  readonly mode: 'memory' | 'redis';
  /**
   * This balancer now holds the server's control socket: records it (not draining) and adopts the
   * playgrounds it already hosts. Returns the mappings it must give up (epoch conflicts).
   */
  register(server: ServerIdentity, playgrounds: PlaygroundLoad[]): Promise<Release[]>;
  /**
   * A load report: counts, `draining`, and the playground map re-established from it; mappings to the
   * server that the report no longer lists are dropped unless a seat is pending for them.
   */
  report(server: ServerIdentity, load: LoadReport): Promise<Release[]>;
  /** A ticket was admitted: releases its seat and counts the player. False when unknown or expired. */
  redeem(serverId: string, jti: string, playgroundId: string): Promise<boolean>;
  /**
   * This balancer lost the server's control socket. The server is dead when no balancer holds it any
   * more: its mappings and seats are dropped (the playgrounds are placed afresh on the next join).
   */
  lose(serverId: string, reason: string): Promise<LossOutcome>;
  /** Keeps the entries of the servers this balancer holds alive (Redis entries expire otherwise). */
  refresh(serverIds: readonly string[]): Promise<void>;
  /** Stops new placements on a server. False when the server is unknown. */
  setDraining(serverId: string): Promise<boolean>;
  /**
   * Places the playground (sticky, or afresh by most headroom), records the mapping and reserves one
   * seat per ticket id, all atomically. Concurrent calls (from any balancer) never place one new
   * playground twice. Every store implements it as `placeInStore(this, request)`.
   */
  place(request: PlaceRequest): Promise<PlaceOutcome>;
  /**
   * What placement decides on, with the revision it was read at. A `holder`'s reservation in this
   * playground is released first: the ticket being placed replaces it (docs/api.md, seat holds).
   */
  snapshot(playgroundId: string, holder: string | undefined): Promise<StoreSnapshot>;
  /**
   * Records a placement decision — the mapping (unless sticky) and one seat per ticket id — if the
   * revisions it was decided on still hold (the chosen server's, the holder's seats', and the
   * playground's mapping); otherwise records nothing and answers `{ok: false}` (stale).
   */
  commit(decision: PlacementCommit): Promise<CommitOutcome>;
  /** Drops reservations that will not be used (their ticket could not be signed). */
  releaseSeats(serverId: string, playgroundId: string, jtis: readonly string[]): Promise<void>;
  /** The live server hosting a playground, if any. */
  homeOf(playgroundId: string): Promise<string | undefined>;
  get(serverId: string): Promise<ServerView | undefined>;
  /** Live servers, sorted by id. */
  list(): Promise<ServerView[]>;
  /** Servers declared dead recently (newest first, bounded). */
  deadServers(): Promise<DeadServer[]>;
  close(): Promise<void>;
}

/** What a server says about itself in `register` (re-sent with every report so state self-heals). */
export interface ServerIdentity {
  serverId: string;
  endpoint: string;
  capacity: number;
  version: string;
  protocolVersion: number;
}

/** Just the identity fields of `server` (callers may pass a richer object; stores keep only these). */
export function identityOf(server: ServerIdentity): ServerIdentity {
  return {
    serverId: server.serverId,
    endpoint: server.endpoint,
    capacity: server.capacity,
    version: server.version,
    protocolVersion: server.protocolVersion,
  };
}

/** Fresh copies of playground loads with only their own fields (epoch and age only when reported). */
export function copyLoads(playgrounds: readonly PlaygroundLoad[]): PlaygroundLoad[] {
  return playgrounds.map((p) => {
    const copy: PlaygroundLoad = { playgroundId: p.playgroundId, players: p.players };
    if (p.epoch !== undefined) copy.epoch = p.epoch;
    if (p.checkpointAgeMs !== undefined) copy.checkpointAgeMs = p.checkpointAgeMs;
    return copy;
  });
}

export interface LoadReport {
  players: number;
  playgrounds: PlaygroundLoad[];
  cpu: number;
  tickMs: number;
  entities?: number | undefined;
  bytesOutPerSec?: number | undefined;
  tickP50Ms?: number | undefined;
  tickP99Ms?: number | undefined;
  checkpointLagMs?: number | undefined;
  backpressureSkips?: number | undefined;
  draining?: boolean | undefined;
}

/** `serverId` must stop hosting `playgroundId`: another server holds it with a higher epoch. */
export interface Release {
  playgroundId: string;
  serverId: string;
}

export interface LossOutcome {
  /** No balancer holds the server any more. */
  dead: boolean;
  /** Playgrounds whose mapping was dropped with it. */
  dropped: string[];
}

/**
 * Bounds on the seats one user holds with unredeemed tickets (docs/operations.md, limits): a new
 * ticket for a playground replaces the user's earlier reservation there, and a user holds at most
 * `max` reservations overall.
 */
export interface SeatHold {
  userId: string;
  max: number;
}

export interface PlaceRequest extends PlacementRequest {
  playgroundId: string;
  /** The user the (single) ticket is for; absent for relocations, which move many users at once. */
  hold?: SeatHold | undefined;
  /** One reservation per ticket id; their seats expire at `expiresAtMs`. */
  jtis: readonly string[];
  expiresAtMs: number;
  /** Whether this balancer holds the server's control socket (it can only sign tickets for those). */
  connected(serverId: string): boolean;
}

/** One live server in a store snapshot (whether this balancer holds it is the caller's to add). */
export interface SnapshotServer {
  serverId: string;
  capacity: number;
  players: number;
  pending: number;
  draining: boolean;
  /**
   * Changes with every write that could make a decision for this server unsafe (a placement on
   * it, its report, its drain, its death). Writes that only add room (a redemption, a released or
   * expired seat) leave it.
   */
  revision: number;
}

export interface StoreSnapshot {
  /** The playground's mapping as read (possibly to a server that died since). */
  home: string | undefined;
  servers: SnapshotServer[];
  /** Live reservations of the holder in other playgrounds. */
  held: number;
  /** Changes with every placement for the holder. */
  holdRevision: number;
}

export interface PlacementCommit {
  /** The chosen server's revision in the snapshot. */
  serverRevision: number;
  holdRevision: number;
  /** The mapping the decision saw. */
  home: string | undefined;
  playgroundId: string;
  serverId: string;
  sticky: boolean;
  jtis: readonly string[];
  expiresAtMs: number;
  holder: string | undefined;
}

export type CommitOutcome = { ok: true; endpoint: string; replaced: boolean } | { ok: false };

export type PlaceOutcome =
  | {
      ok: true;
      serverId: string;
      endpoint: string;
      sticky: boolean;
      /** The playground's previous server died and this placement re-homes it. */
      replaced: boolean;
    }
  | { ok: false; reason: RefusalReason };

export interface ServerView extends ServerIdentity {
  players: number;
  playgrounds: PlaygroundLoad[];
  cpu: number;
  tickMs: number;
  entities: number;
  bytesOutPerSec: number;
  tickP50Ms: number;
  tickP99Ms: number;
  checkpointLagMs: number;
  backpressureSkips: number;
  draining: boolean;
  pending: number;
  registeredAtMs: number;
  lastReportAtMs: number;
  /** Ids of the balancers holding its control socket. */
  balancers: string[];
}

export interface DeadServer {
  serverId: string;
  endpoint: string;
  diedAtMs: number;
  reason: string;
  playgrounds: number;
}

/** How many dead servers are remembered for GET /lb/api/v0/servers. */
export const DEAD_SERVERS_KEPT = 50;
/** How long a playground of a dead server counts as "to be re-placed" (for the metric). */
export const ORPHAN_MEMORY_MS = 10 * 60_000;
/** Bound on playgrounds remembered as orphaned at once. */
export const MAX_ORPHANS = 10_000;

/**
 * Whether a reporter's claim on a playground beats the current mapping to another live server: only
 * a strictly higher fencing epoch wins. A mapping made by placement has no epoch yet — its server is
 * about to claim a newer one — so it is kept; so is every mapping when the reporter is draining.
 */
export function reporterWins(
  reported: number | undefined,
  current: number | undefined,
  reporterDraining: boolean,
): boolean {
  return !reporterDraining && reported !== undefined && current !== undefined && reported > current;
}
