/** One dedicated server as the balancer lists it (`GET /lb/api/v0/servers`), reduced to what scaling needs. */
export interface ServerLoadView {
  serverId: string;
  capacity: number;
  players: number;
  /** Seats reserved by issued tickets not yet redeemed. */
  pending: number;
  draining: boolean;
  /** Playgrounds it hosts, empty ones included. */
  playgrounds: number;
}

export interface ScalePolicy {
  minServers: number;
  maxServers: number;
  /** Start a server when fewer seats than this are free. */
  minFreeSeats: number;
  /** Drain an empty server when more seats than this are free. */
  maxFreeSeats: number;
  /** Least time between two actions (a start or a drain), so one change shows in the load first. */
  cooldownMs: number;
}

export interface ScaleInput {
  /** The balancer's view of every live server, including ones the provider does not manage. */
  servers: readonly ServerLoadView[];
  /** Ids of the servers the provider runs and that are not being drained away, oldest first. */
  managed: readonly string[];
  /** Managed servers started (or restarted) recently that have not registered yet. */
  waitingForRegistration: number;
  nowMs: number;
  /** When the last start or drain was decided; null before the first. */
  lastActionAtMs: number | null;
  policy: ScalePolicy;
}

export type ScaleDecision =
  | { action: 'start'; reason: string; freeSeats: number }
  | { action: 'drain'; serverId: string; reason: string; freeSeats: number }
  | { action: 'hold'; reason: string; freeSeats: number };

/** Σ (capacity − players − pending) over the servers that take new players (not draining). */
export function freeSeats(servers: readonly ServerLoadView[]): number {
  let free = 0;
  for (const s of servers) if (!s.draining) free += Math.max(0, s.capacity - s.players - s.pending);
  return free;
}

/**
 * What the autoscaler does now. Starts a server when free seats fall below `minFreeSeats` (or the
 * managed count is below the minimum); drains the idlest empty managed server when free seats exceed
 * `maxFreeSeats` — only if the seats left after it still meet `minFreeSeats`, so a drain never
 * triggers the next start — within [minServers, maxServers], one action per cooldown, and never while
 * a server it started has not registered yet (its seats are not counted yet).
 */
export function decideScale(input: ScaleInput): ScaleDecision {
  const { policy, managed } = input;
  const free = freeSeats(input.servers);
  const hold = (reason: string): ScaleDecision => ({ action: 'hold', reason, freeSeats: free });
  if (input.waitingForRegistration > 0) return hold('waiting for a started server to register');
  if (managed.length < policy.minServers) {
    return { action: 'start', reason: 'fewer servers than the minimum', freeSeats: free };
  }
  if (input.lastActionAtMs !== null && input.nowMs - input.lastActionAtMs < policy.cooldownMs) {
    return hold('cooldown');
  }
  if (free < policy.minFreeSeats) {
    if (managed.length >= policy.maxServers) return hold('free seats low, but at the maximum server count');
    return { action: 'start', reason: 'free seats below the minimum', freeSeats: free };
  }
  if (free > policy.maxFreeSeats && managed.length > policy.minServers) {
    const order = new Map(managed.map((id, i) => [id, i]));
    const candidates = input.servers
      .filter((s) => order.has(s.serverId) && !s.draining && s.players === 0 && s.pending === 0)
      .filter((s) => free - Math.max(0, s.capacity) >= policy.minFreeSeats)
      // Idlest first: fewest (empty) playgrounds to move, then the most recently started.
      .sort(
        (a, b) =>
          a.playgrounds - b.playgrounds || (order.get(b.serverId) ?? 0) - (order.get(a.serverId) ?? 0),
      );
    const idlest = candidates[0];
    if (!idlest) return hold('free seats high, but no empty server can go');
    return {
      action: 'drain',
      serverId: idlest.serverId,
      reason: 'free seats above the maximum',
      freeSeats: free,
    };
  }
  return hold('within the thresholds');
}
