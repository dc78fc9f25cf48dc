import type { PlaygroundLoad } from '@plexus/protocol';
import {
  type ClusterStore,
  type CommitOutcome,
  copyLoads,
  DEAD_SERVERS_KEPT,
  type DeadServer,
  identityOf,
  type LoadReport,
  type LossOutcome,
  MAX_ORPHANS,
  ORPHAN_MEMORY_MS,
  type PlacementCommit,
  type PlaceOutcome,
  type PlaceRequest,
  type Release,
  reporterWins,
  type ServerIdentity,
  type ServerView,
  type StoreSnapshot,
} from './cluster-store.ts';
import { SeatLedger } from './seat-ledger.ts';
import { placeInStore } from './store-placement.ts';

type ServerEntry = Omit<ServerView, 'pending' | 'balancers'>;

interface Home {
  serverId: string;
  /** Fencing epoch the server reported; undefined until it reports one (e.g. just placed). */
  epoch: number | undefined;
}

/**
 * The cluster state of a single balancer, in memory. Advisory, rebuildable state: servers re-send
 * their playgrounds on register and in every load report. Every method does its work synchronously
 * before its promise settles, so concurrent joins always see each other's reservations.
 */
export class MemoryClusterStore implements ClusterStore {
  readonly mode = 'memory';
  readonly #lbId: string;
  readonly #now: () => number;
  readonly #servers = new Map<string, ServerEntry>();
  readonly #homes = new Map<string, Home>();
  readonly #ledger: SeatLedger;
  /** Playgrounds of dead servers not placed again yet → when their server died. */
  readonly #orphans = new Map<string, number>();
  readonly #dead: DeadServer[] = [];
  /** Bumped by every write a placement decision could depend on (see StoreSnapshot.revision). */
  #revision = 0;

  constructor(options: { lbId: string; now?: () => number }) {
    this.#lbId = options.lbId;
    this.#now = options.now ?? Date.now;
    this.#ledger = new SeatLedger({ now: this.#now });
  }

  async register(server: ServerIdentity, playgrounds: PlaygroundLoad[]): Promise<Release[]> {
    this.#revision++;
    const now = this.#now();
    this.#servers.set(server.serverId, {
      ...identityOf(server),
      players: sumPlayers(playgrounds),
      playgrounds: copyLoads(playgrounds),
      cpu: 0,
      tickMs: 0,
      entities: 0,
      bytesOutPerSec: 0,
      tickP50Ms: 0,
      tickP99Ms: 0,
      checkpointLagMs: 0,
      backpressureSkips: 0,
      // A (re)registering server starts accepting; its next load report says if it is draining.
      draining: false,
      registeredAtMs: now,
      lastReportAtMs: now,
    });
    return this.#claim(server.serverId, playgrounds, false);
  }

  async report(server: ServerIdentity, load: LoadReport): Promise<Release[]> {
    const entry = this.#servers.get(server.serverId);
    if (!entry) return [];
    this.#revision++;
    entry.players = load.players;
    entry.playgrounds = copyLoads(load.playgrounds);
    entry.cpu = load.cpu;
    entry.tickMs = load.tickMs;
    entry.entities = load.entities ?? 0;
    entry.bytesOutPerSec = load.bytesOutPerSec ?? 0;
    entry.tickP50Ms = load.tickP50Ms ?? 0;
    entry.tickP99Ms = load.tickP99Ms ?? 0;
    entry.checkpointLagMs = load.checkpointLagMs ?? 0;
    entry.backpressureSkips = load.backpressureSkips ?? 0;
    if (load.draining === true) entry.draining = true;
    entry.lastReportAtMs = this.#now();
    const releases = this.#claim(server.serverId, load.playgrounds, entry.draining);
    const listed = new Set(load.playgrounds.map((p) => p.playgroundId));
    for (const [playgroundId, home] of this.#homes) {
      if (
        home.serverId === server.serverId &&
        !listed.has(playgroundId) &&
        !this.#ledger.hasPendingFor(server.serverId, playgroundId)
      ) {
        this.#homes.delete(playgroundId);
      }
    }
    return releases;
  }

  async redeem(serverId: string, jti: string, playgroundId: string): Promise<boolean> {
    const entry = this.#servers.get(serverId);
    if (!entry || !this.#ledger.redeem(serverId, jti)) return false;
    entry.players++;
    const load = entry.playgrounds.find((p) => p.playgroundId === playgroundId);
    if (load) load.players++;
    else entry.playgrounds.push({ playgroundId, players: 1 });
    return true;
  }

  async lose(serverId: string, reason: string): Promise<LossOutcome> {
    const entry = this.#servers.get(serverId);
    if (!entry) return { dead: false, dropped: [] };
    this.#revision++;
    this.#servers.delete(serverId);
    this.#ledger.dropServer(serverId);
    const now = this.#now();
    const dropped: string[] = [];
    for (const [playgroundId, home] of this.#homes) {
      if (home.serverId !== serverId) continue;
      this.#homes.delete(playgroundId);
      dropped.push(playgroundId);
      this.#orphans.delete(playgroundId);
      this.#orphans.set(playgroundId, now);
    }
    this.#pruneOrphans(now);
    this.#dead.unshift({
      serverId,
      endpoint: entry.endpoint,
      diedAtMs: now,
      reason,
      playgrounds: dropped.length,
    });
    this.#dead.length = Math.min(this.#dead.length, DEAD_SERVERS_KEPT);
    return { dead: true, dropped };
  }

  async refresh(): Promise<void> {
    // Nothing expires in memory: a server stays until its socket closes or misses its heartbeats.
    this.#ledger.sweep();
  }

  async setDraining(serverId: string): Promise<boolean> {
    const entry = this.#servers.get(serverId);
    if (!entry) return false;
    this.#revision++;
    entry.draining = true;
    return true;
  }

  async place(request: PlaceRequest): Promise<PlaceOutcome> {
    return placeInStore(this, request);
  }

  async snapshot(playgroundId: string, holder: string | undefined): Promise<StoreSnapshot> {
    let held = 0;
    if (holder !== undefined) {
      for (const r of this.#ledger.heldBy(holder)) {
        if (r.playgroundId === playgroundId) this.#ledger.release(r.serverId, r.jti);
        else held++;
      }
    }
    // One counter serves as every revision: a single balancer's writes are few and in-process.
    return {
      home: this.#homes.get(playgroundId)?.serverId,
      servers: [...this.#servers.values()].map((s) => ({
        serverId: s.serverId,
        capacity: s.capacity,
        players: s.players,
        pending: this.#ledger.pendingFor(s.serverId),
        draining: s.draining,
        revision: this.#revision,
      })),
      held,
      holdRevision: this.#revision,
    };
  }

  async commit(decision: PlacementCommit): Promise<CommitOutcome> {
    const server = this.#servers.get(decision.serverId);
    if (decision.serverRevision !== this.#revision || !server) return { ok: false };
    this.#revision++;
    const { playgroundId } = decision;
    if (!decision.sticky) this.#homes.set(playgroundId, { serverId: server.serverId, epoch: undefined });
    for (const jti of decision.jtis) {
      this.#ledger.reserve({
        jti,
        serverId: server.serverId,
        playgroundId,
        expiresAtMs: decision.expiresAtMs,
        holder: decision.holder,
      });
    }
    const replaced = !decision.sticky && this.#orphans.delete(playgroundId);
    return { ok: true, endpoint: server.endpoint, replaced };
  }

  async releaseSeats(serverId: string, _playgroundId: string, jtis: readonly string[]): Promise<void> {
    for (const jti of jtis) this.#ledger.release(serverId, jti);
  }

  async homeOf(playgroundId: string): Promise<string | undefined> {
    const home = this.#homes.get(playgroundId);
    return home && this.#servers.has(home.serverId) ? home.serverId : undefined;
  }

  async get(serverId: string): Promise<ServerView | undefined> {
    const entry = this.#servers.get(serverId);
    return entry && this.#view(entry);
  }

  async list(): Promise<ServerView[]> {
    return [...this.#servers.values()]
      .sort((a, b) => (a.serverId < b.serverId ? -1 : 1))
      .map((entry) => this.#view(entry));
  }

  async deadServers(): Promise<DeadServer[]> {
    return this.#dead.map((d) => ({ ...d }));
  }

  async close(): Promise<void> {}

  #view(entry: ServerEntry): ServerView {
    return {
      ...entry,
      playgrounds: copyLoads(entry.playgrounds),
      pending: this.#ledger.pendingFor(entry.serverId),
      balancers: [this.#lbId],
    };
  }

  /** Maps reported playgrounds to the reporter unless a live server holds them with a higher epoch. */
  #claim(serverId: string, playgrounds: PlaygroundLoad[], draining: boolean): Release[] {
    const releases: Release[] = [];
    for (const { playgroundId, epoch } of playgrounds) {
      const home = this.#homes.get(playgroundId);
      if (home === undefined || !this.#servers.has(home.serverId)) {
        this.#homes.set(playgroundId, { serverId, epoch });
        this.#orphans.delete(playgroundId);
      } else if (home.serverId === serverId) {
        if (epoch !== undefined && (home.epoch === undefined || epoch > home.epoch)) home.epoch = epoch;
      } else if (reporterWins(epoch, home.epoch, draining)) {
        releases.push({ playgroundId, serverId: home.serverId });
        this.#homes.set(playgroundId, { serverId, epoch });
      } else if (!draining) {
        releases.push({ playgroundId, serverId });
      }
    }
    return releases;
  }

  #pruneOrphans(now: number): void {
    for (const [playgroundId, since] of this.#orphans) {
      if (this.#orphans.size <= MAX_ORPHANS && since > now - ORPHAN_MEMORY_MS) break;
      this.#orphans.delete(playgroundId);
    }
  }
}

function sumPlayers(playgrounds: PlaygroundLoad[]): number {
  let n = 0;
  for (const p of playgrounds) n += p.players;
  return n;
}
