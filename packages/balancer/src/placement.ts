/** What placement needs to know about one live server. */
export interface PlacementServer {
  serverId: string;
  capacity: number;
  /** Players the server last reported (plus redemptions since). */
  players: number;
  /** Unexpired, unredeemed tickets on the server. */
  pending: number;
  draining: boolean;
  /**
   * Whether this balancer holds the server's control socket, i.e. the server knows this balancer's
   * ticket key. Always true with one balancer; with several (Redis) a ticket can only be issued by a
   * balancer the server is connected to.
   */
  connected: boolean;
}

/** A read-only view of the live servers and of the requested playground's home at one instant. */
export interface PlacementSnapshot {
  servers: readonly PlacementServer[];
  /** Server id the playground is mapped to, if any (it may have died since: then it is not in `servers`). */
  home: string | undefined;
  /** Seats the requesting user holds with unredeemed tickets for other playgrounds. */
  heldByUser?: number | undefined;
}

export interface PlacementRequest {
  /** Seats needed at once (relocating a playground moves all of its users); default 1. */
  seats?: number;
  /** A resuming user already holds a seat in the playground: no headroom check on its home. */
  resume?: boolean;
  /** A server that must not be chosen (the draining server asking for a new home). */
  exclude?: string;
  /** Most seats one user may hold with unredeemed tickets (docs/api.md, seat holds). */
  maxHeldByUser?: number | undefined;
}

export type RefusalReason =
  | 'no_servers'
  | 'playground_full'
  | 'no_capacity'
  | 'home_not_connected'
  | 'seats_held';

export type PlacementResult =
  | { ok: true; serverId: string; sticky: boolean }
  | { ok: false; reason: RefusalReason };

/** Free seats: capacity − reported players − pending ticket reservations. */
export function headroom(server: PlacementServer): number {
  return server.capacity - server.players - server.pending;
}

/**
 * Chooses the server for a playground. A playground already hosted on a live, non-draining server
 * stays there (one playground lives on one server) and is refused when that server is full, unless
 * the user resumes (they hold a seat there). Any other playground goes to the non-draining connected
 * server with the most headroom, ties broken by the lower server id; a resuming user is placed even
 * where no seat is free (they held one on the server that died). A user already holding
 * `maxHeldByUser` seats elsewhere gets none. Pure: the store records the result (store-placement.ts).
 */
export function placePlayground(
  snapshot: PlacementSnapshot,
  request: PlacementRequest = {},
): PlacementResult {
  const seats = request.seats ?? 1;
  const resume = request.resume === true;
  if (request.maxHeldByUser !== undefined && (snapshot.heldByUser ?? 0) >= request.maxHeldByUser) {
    return { ok: false, reason: 'seats_held' };
  }
  const home =
    snapshot.home === undefined ? undefined : snapshot.servers.find((s) => s.serverId === snapshot.home);
  if (home && !home.draining && home.serverId !== request.exclude) {
    if (!home.connected) return { ok: false, reason: 'home_not_connected' };
    return resume || headroom(home) >= seats
      ? { ok: true, serverId: home.serverId, sticky: true }
      : { ok: false, reason: 'playground_full' };
  }
  let best: PlacementServer | undefined;
  let bestRoom = 0;
  let candidates = 0;
  for (const server of snapshot.servers) {
    if (server.draining || !server.connected || server.serverId === request.exclude) continue;
    candidates++;
    const room = headroom(server);
    if (room < seats && !resume) continue;
    if (!best || room > bestRoom || (room === bestRoom && server.serverId < best.serverId)) {
      best = server;
      bestRoom = room;
    }
  }
  if (best) return { ok: true, serverId: best.serverId, sticky: false };
  return { ok: false, reason: candidates === 0 ? 'no_servers' : 'no_capacity' };
}
