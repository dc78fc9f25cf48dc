/** What placement needs to know about one registered server. */
export interface PlacementServer {
  serverId: string;
  capacity: number;
  /** Players the server last reported (plus redemptions since). */
  players: number;
  draining: boolean;
}

/** A read-only view of the registry at one instant. */
export interface RegistrySnapshot {
  servers: readonly PlacementServer[];
  /** playgroundId → serverId of the server hosting it. */
  homes: ReadonlyMap<string, string>;
}

export interface PlacementRequest {
  playgroundId: string;
}

export type RefusalReason = 'no_servers' | 'playground_full' | 'no_capacity';

export type PlacementResult =
  | { ok: true; serverId: string; sticky: boolean }
  | { ok: false; reason: RefusalReason };

/** Free seats: capacity − reported players − pending ticket reservations. */
export function headroom(server: PlacementServer, pending: ReadonlyMap<string, number>): number {
  return server.capacity - server.players - (pending.get(server.serverId) ?? 0);
}

/**
 * Chooses the server for a playground. A playground already hosted on a live, non-draining server
 * stays there (one playground lives on one server) and is refused when that server is full. Any
 * other playground goes to the non-draining server with the most headroom, ties broken by the lower
 * server id. Pure: the caller records the mapping and the seat.
 */
export function placePlayground(
  snapshot: RegistrySnapshot,
  request: PlacementRequest,
  pending: ReadonlyMap<string, number>,
): PlacementResult {
  const homeId = snapshot.homes.get(request.playgroundId);
  if (homeId !== undefined) {
    const home = snapshot.servers.find((s) => s.serverId === homeId);
    if (home && !home.draining) {
      return headroom(home, pending) > 0
        ? { ok: true, serverId: home.serverId, sticky: true }
        : { ok: false, reason: 'playground_full' };
    }
  }
  let best: PlacementServer | undefined;
  let bestRoom = 0;
  let candidates = 0;
  for (const server of snapshot.servers) {
    if (server.draining) continue;
    candidates++;
    const room = headroom(server, pending);
    if (room <= 0) continue;
    if (!best || room > bestRoom || (room === bestRoom && server.serverId < best.serverId)) {
      best = server;
      bestRoom = room;
    }
  }
  if (best) return { ok: true, serverId: best.serverId, sticky: false };
  return { ok: false, reason: candidates === 0 ? 'no_servers' : 'no_capacity' };
}
