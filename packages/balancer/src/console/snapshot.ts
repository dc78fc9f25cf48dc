import type { ConsoleBalancer, ConsolePlayground, ConsoleServer, ConsoleSnapshot } from '@plexus/protocol';
import type { DeadServer, ServerView } from '../cluster-store.ts';

/** Most playgrounds one snapshot lists (the busiest first); `playgroundsTotal` counts them all. */
export const CONSOLE_MAX_PLAYGROUNDS = 2000;

/**
 * The console's view of the cluster, a pure function of the registry: live servers with their state
 * and figures, recently dead ones, the playgrounds they host, and the balancers that hold them (with
 * several balancers, each one is known by the servers it holds, plus this one).
 */
export function consoleSnapshot(input: {
  servers: readonly ServerView[];
  dead: readonly DeadServer[];
  lbId: string;
  mode: 'memory' | 'redis';
  nowMs: number;
}): ConsoleSnapshot {
  const { lbId } = input;
  const balancers = new Map<string, ConsoleBalancer>([[lbId, { lbId, servers: 0, players: 0, self: true }]]);
  const playgrounds: ConsolePlayground[] = [];
  const servers: ConsoleServer[] = input.servers.map((s) => {
    for (const id of s.balancers) {
      const b = balancers.get(id) ?? { lbId: id, servers: 0, players: 0, self: false };
      b.servers++;
      b.players += s.players;
      balancers.set(id, b);
    }
    for (const p of s.playgrounds) {
      playgrounds.push({
        playgroundId: p.playgroundId,
        players: p.players,
        serverId: s.serverId,
        epoch: p.epoch ?? null,
        checkpointAgeMs: p.checkpointAgeMs ?? null,
      });
    }
    return {
      serverId: s.serverId,
      endpoint: s.endpoint,
      state: s.draining ? 'draining' : 'ready',
      capacity: s.capacity,
      players: s.players,
      pending: s.pending,
      playgrounds: s.playgrounds.length,
      tickMs: s.tickMs,
      tickP50Ms: s.tickP50Ms,
      tickP99Ms: s.tickP99Ms,
      bytesOutPerSec: s.bytesOutPerSec,
      checkpointLagMs: s.checkpointLagMs,
      cpu: s.cpu,
      entities: s.entities,
      version: s.version,
      balancers: s.balancers,
      lastSeenAt: new Date(s.lastReportAtMs).toISOString(),
    };
  });
  const live = new Set(servers.map((s) => s.serverId));
  for (const d of input.dead) {
    // A server that died and came back under the same id is listed once, alive.
    if (live.has(d.serverId)) continue;
    servers.push({
      serverId: d.serverId,
      endpoint: d.endpoint,
      state: 'dead',
      capacity: 0,
      players: 0,
      pending: 0,
      playgrounds: d.playgrounds,
      tickMs: 0,
      tickP50Ms: 0,
      tickP99Ms: 0,
      bytesOutPerSec: 0,
      checkpointLagMs: 0,
      cpu: 0,
      entities: 0,
      version: '',
      balancers: [],
      lastSeenAt: new Date(d.diedAtMs).toISOString(),
      reason: d.reason,
    });
    live.add(d.serverId);
  }
  playgrounds.sort((a, b) => b.players - a.players || a.playgroundId.localeCompare(b.playgroundId));
  return {
    at: new Date(input.nowMs).toISOString(),
    lbId,
    mode: input.mode,
    balancers: [...balancers.values()].sort((a, b) => a.lbId.localeCompare(b.lbId)),
    servers,
    playgrounds: playgrounds.slice(0, CONSOLE_MAX_PLAYGROUNDS),
    playgroundsTotal: playgrounds.length,
  };
}
