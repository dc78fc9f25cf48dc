import type { PlaygroundLoad } from '@plexus/protocol';
import type { RegistrySnapshot } from './placement.ts';

/** A registered dedicated server as the balancer knows it. */
export interface ServerEntry {
  serverId: string;
  endpoint: string;
  capacity: number;
  version: string;
  protocolVersion: number;
  players: number;
  /** playgroundId → players, from the last report. */
  playgrounds: Map<string, number>;
  cpu: number;
  tickMs: number;
  /** Replication figures of the last report (0 until a server reports them). */
  entities: number;
  bytesOutPerSec: number;
  tickP99Ms: number;
  backpressureSkips: number;
  draining: boolean;
  registeredAtMs: number;
  lastReportAtMs: number;
}

export interface RegisterInput {
  serverId: string;
  endpoint: string;
  capacity: number;
  version: string;
  protocolVersion: number;
  playgrounds: PlaygroundLoad[];
}

export interface LoadInput {
  players: number;
  playgrounds: PlaygroundLoad[];
  cpu: number;
  tickMs: number;
  entities?: number | undefined;
  bytesOutPerSec?: number | undefined;
  tickP99Ms?: number | undefined;
  backpressureSkips?: number | undefined;
}

/** A playground reported by two servers; the existing home is kept. */
export interface MappingConflict {
  playgroundId: string;
  home: string;
  reportedBy: string;
}

/**
 * The live registry of dedicated servers (fed by the control channel) and the playground map
 * (playgroundId → serverId). Advisory, rebuildable state: servers re-send their playgrounds on
 * register and in every load report.
 */
export class ServerRegistry {
  readonly #servers = new Map<string, ServerEntry>();
  readonly #homes = new Map<string, string>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#servers.size;
  }

  get(serverId: string): ServerEntry | undefined {
    return this.#servers.get(serverId);
  }

  list(): ServerEntry[] {
    return [...this.#servers.values()].sort((a, b) => (a.serverId < b.serverId ? -1 : 1));
  }

  homeOf(playgroundId: string): string | undefined {
    return this.#homes.get(playgroundId);
  }

  totalPlayers(): number {
    let n = 0;
    for (const s of this.#servers.values()) n += s.players;
    return n;
  }

  /** Adds or replaces a server (same id = the same server reconnecting) and maps its playgrounds. */
  register(input: RegisterInput): MappingConflict[] {
    const now = this.#now();
    const entry: ServerEntry = {
      serverId: input.serverId,
      endpoint: input.endpoint,
      capacity: input.capacity,
      version: input.version,
      protocolVersion: input.protocolVersion,
      players: sumPlayers(input.playgrounds),
      playgrounds: toMap(input.playgrounds),
      cpu: 0,
      tickMs: 0,
      entities: 0,
      bytesOutPerSec: 0,
      tickP99Ms: 0,
      backpressureSkips: 0,
      // A (re)registering server starts accepting; it re-announces nothing about draining.
      draining: false,
      registeredAtMs: now,
      lastReportAtMs: now,
    };
    this.#servers.set(input.serverId, entry);
    return this.#claim(entry.serverId, input.playgrounds);
  }

  /**
   * Applies a load report: counts, and the playground map re-established from the report. Mappings to
   * this server that the report no longer lists are dropped unless `keep` says a seat is still pending.
   */
  applyLoad(serverId: string, load: LoadInput, keep: (playgroundId: string) => boolean): MappingConflict[] {
    const entry = this.#servers.get(serverId);
    if (!entry) return [];
    entry.players = load.players;
    entry.playgrounds = toMap(load.playgrounds);
    entry.cpu = load.cpu;
    entry.tickMs = load.tickMs;
    entry.entities = load.entities ?? 0;
    entry.bytesOutPerSec = load.bytesOutPerSec ?? 0;
    entry.tickP99Ms = load.tickP99Ms ?? 0;
    entry.backpressureSkips = load.backpressureSkips ?? 0;
    entry.lastReportAtMs = this.#now();
    const conflicts = this.#claim(serverId, load.playgrounds);
    for (const [playgroundId, home] of this.#homes) {
      if (home === serverId && !entry.playgrounds.has(playgroundId) && !keep(playgroundId)) {
        this.#homes.delete(playgroundId);
      }
    }
    return conflicts;
  }

  /** A ticket was redeemed: count the player now rather than at the next load report. */
  notePlayerJoined(serverId: string, playgroundId: string): void {
    const entry = this.#servers.get(serverId);
    if (!entry) return;
    entry.players++;
    entry.playgrounds.set(playgroundId, (entry.playgrounds.get(playgroundId) ?? 0) + 1);
  }

  /** Records where a playground was placed. */
  assign(playgroundId: string, serverId: string): void {
    this.#homes.set(playgroundId, serverId);
  }

  setDraining(serverId: string, draining: boolean): boolean {
    const entry = this.#servers.get(serverId);
    if (!entry) return false;
    entry.draining = draining;
    return true;
  }

  /** Removes a server and its playground mappings; returns the playgrounds that lost their home. */
  remove(serverId: string): string[] {
    if (!this.#servers.delete(serverId)) return [];
    const dropped: string[] = [];
    for (const [playgroundId, home] of this.#homes) {
      if (home === serverId) {
        this.#homes.delete(playgroundId);
        dropped.push(playgroundId);
      }
    }
    return dropped;
  }

  /** The read-only view placement works on. */
  snapshot(): RegistrySnapshot {
    return {
      servers: [...this.#servers.values()].map((s) => ({
        serverId: s.serverId,
        capacity: s.capacity,
        players: s.players,
        draining: s.draining,
      })),
      homes: this.#homes,
    };
  }

  #claim(serverId: string, playgrounds: PlaygroundLoad[]): MappingConflict[] {
    const conflicts: MappingConflict[] = [];
    for (const { playgroundId } of playgrounds) {
      const home = this.#homes.get(playgroundId);
      if (home === undefined || !this.#servers.has(home)) this.#homes.set(playgroundId, serverId);
      else if (home !== serverId) conflicts.push({ playgroundId, home, reportedBy: serverId });
    }
    return conflicts;
  }
}

function sumPlayers(playgrounds: PlaygroundLoad[]): number {
  let n = 0;
  for (const p of playgrounds) n += p.players;
  return n;
}

function toMap(playgrounds: PlaygroundLoad[]): Map<string, number> {
  return new Map(playgrounds.map((p) => [p.playgroundId, p.players]));
}
