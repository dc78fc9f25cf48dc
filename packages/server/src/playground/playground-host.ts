import type { Logger } from '@plexus/kit';
import type { ErrorName, PlaygroundLoad } from '@plexus/protocol';
import type { ReplayCache } from '../control/replay-cache.ts';
import type { VerifiedTicket } from '../control/ticket-verifier.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { ReplicationStats } from '../replication/replication-stats.ts';
import { type InterestOptions, Replicator } from '../replication/replicator.ts';
import { sendTick } from '../replication/send-tick.ts';
import type { ClientConnection } from '../transport/client-connection.ts';
import { avatarProps, type RandomHex4 } from './avatar-profile.ts';
import { Playground } from './playground.ts';
import { PlaygroundLogic } from './playground-logic.ts';
import { PlaygroundTypes } from './type-registry.ts';

/** A hosted playground and the clients in it. */
export interface Room {
  playground: Playground;
  members: Map<number, ClientConnection>;
  /** userId → connection: one seat per identity per playground. */
  byUser: Map<string, ClientConnection>;
  /** Monotonic ms since which the room has had no member, or null. */
  emptySince: number | null;
  /** The playground type's rules and hooks (playground-logic.ts). */
  logic: PlaygroundLogic;
  /** Interest management and STATE encoding (replication/replicator.ts). */
  replicator: Replicator;
}

export interface PlaygroundHostOptions {
  capacity: number;
  maxBufferedBytes: number;
  slowConsumerGraceMs: number;
  /** An empty playground is removed after this long. */
  playgroundIdleMs: number;
  /** Spawn positions are random within this radius of the origin, on the ground. */
  spawnRadiusM?: number;
  logger: Logger;
  metrics: ServerMetrics;
  replay: ReplayCache;
  now: () => number;
  random?: () => number;
  randomHex4?: RandomHex4;
  /** Told when a ticket is admitted (the balancer turns the reserved seat into a player). */
  onTicketRedeemed: (jti: string, playgroundId: string) => void;
  /** Playground types and which playground gets which; default: the built-in open-world only. */
  types?: PlaygroundTypes;
  /** Default speed limit of entity kinds without their own (m/s). */
  maxSpeedMps?: number;
  /** Area of interest of every playground (server defaults). */
  interest?: InterestOptions;
  /** Per-tick replication figures (bytes out, backpressure skips) for metrics and load reports. */
  stats?: ReplicationStats;
}

/** Interest defaults when the host is built without a config (tests). */
export const DEFAULT_INTEREST: InterestOptions = { radiusM: 100, hysteresisM: 10, cellSizeM: 16 };

/** Why an admission failed: the error and, for a playground's refusal, its reason. */
export interface Refusal {
  name: ErrorName;
  message?: string;
}

/**
 * Every playground of this server, created on demand when a valid ticket names one and removed
 * when empty for a while. `tick()` runs them all: apply moves, build one delta per playground,
 * send the same bytes to each client, welcome new clients with a keyframe.
 */
export class PlaygroundHost {
  private readonly options: PlaygroundHostOptions;
  private readonly rooms = new Map<string, Room>();
  private tickNumber = 0;
  private players = 0;
  private tickMsSum = 0;
  private tickCount = 0;
  private lastTickAt: number | null = null;
  private readonly types: PlaygroundTypes;

  constructor(options: PlaygroundHostOptions) {
    this.options = options;
    this.types = options.types ?? new PlaygroundTypes();
  }

  get playerCount(): number {
    return this.players;
  }

  get playgroundCount(): number {
    return this.rooms.size;
  }

  get entityCount(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.playground.entityCount;
    return n;
  }

  get currentTick(): number {
    return this.tickNumber;
  }

  room(playgroundId: string): Room | undefined {
    return this.rooms.get(playgroundId);
  }

  playgroundLoads(): PlaygroundLoad[] {
    const loads: PlaygroundLoad[] = [];
    for (const [playgroundId, room] of this.rooms) loads.push({ playgroundId, players: room.members.size });
    return loads;
  }

  /** Mean tick duration (ms) since the previous call. */
  takeMeanTickMs(): number {
    const mean = this.tickCount ? this.tickMsSum / this.tickCount : 0;
    this.tickMsSum = 0;
    this.tickCount = 0;
    return mean;
  }

  recordTickMs(ms: number): void {
    this.tickMsSum += ms;
    this.tickCount++;
  }

  /**
   * Admits a verified ticket: refuses replays and a full server, creates the playground if needed,
   * creates the avatar and asks the playground type (onJoin), then replaces an earlier connection
   * of the same user in that playground. Null on success; a refused join leaves no trace but the
   * playground it may have created (removed when idle).
   */
  admit(conn: ClientConnection, ticket: VerifiedTicket): Refusal | null {
    const { options } = this;
    if (options.replay.has(ticket.jti)) return { name: 'PROTOCOL_TICKET_REPLAYED' };
    const previous = this.rooms.get(ticket.pg)?.byUser.get(ticket.sub);
    if (this.players - (previous ? 1 : 0) >= options.capacity) return { name: 'PROTOCOL_SERVER_FULL' };
    if (!options.replay.add(ticket.jti, ticket.exp * 1000)) return { name: 'PROTOCOL_SERVER_FULL' };

    const room = this.rooms.get(ticket.pg) ?? this.createRoom(ticket.pg);
    const random = options.random ?? Math.random;
    const angle = random() * 2 * Math.PI;
    const radius = Math.sqrt(random()) * (options.spawnRadiusM ?? 4);
    const props = avatarProps(ticket.prof, options.randomHex4);
    const avatarId = room.logic.spawnAvatar(
      conn.clientId,
      { x: Math.cos(angle) * radius, y: 0, z: Math.sin(angle) * radius },
      props,
    );
    // A duplicate login's avatar is still there during onJoin; it leaves once the new one is in.
    const refusal = room.logic.join(
      {
        clientId: conn.clientId,
        userId: ticket.sub,
        avatarId,
        displayName: String(props.displayName ?? ''),
        incognito: ticket.prof.privacyMode !== 0,
        send: (bytes) => conn.sendMessage(bytes),
      },
      previous?.clientId,
    );
    if (refusal) {
      options.replay.delete(ticket.jti);
      conn.log.info({ playgroundId: ticket.pg, reason: refusal.message }, 'join refused by the playground');
      return { name: refusal.error, message: refusal.message };
    }
    if (previous) previous.refuse('PROTOCOL_DUPLICATE_LOGIN');

    conn.room = room;
    conn.userId = ticket.sub;
    conn.avatarId = avatarId;
    conn.log = conn.log.child({ playgroundId: ticket.pg });
    room.members.set(conn.clientId, conn);
    room.byUser.set(ticket.sub, conn);
    room.emptySince = null;
    this.players++;
    conn.log.info({ avatarId, incognito: ticket.prof.privacyMode !== 0 }, 'client joined');
    options.onTicketRedeemed(ticket.jti, ticket.pg);
    return null;
  }

  private createRoom(playgroundId: string): Room {
    const { options } = this;
    const playground = new Playground(playgroundId);
    const type = this.types.resolve(playgroundId);
    const log = options.logger.child({ playgroundId });
    const logic = new PlaygroundLogic({
      type,
      playground,
      logger: log,
      now: options.now,
      currentTick: () => this.tickNumber,
      maxSpeedMps: options.maxSpeedMps ?? 50,
      onLogicError: (hook) => options.metrics.logicErrors.inc({ hook }),
    });
    const room: Room = {
      playground,
      members: new Map(),
      byUser: new Map(),
      emptySince: options.now(),
      logic,
      replicator: new Replicator(playground, { ...(options.interest ?? DEFAULT_INTEREST), ...type.interest }),
    };
    this.rooms.set(playgroundId, room);
    log.info({ playgroundType: type.name }, 'playground created');
    logic.create();
    return room;
  }

  /**
   * Removes a client's avatar and seat; its entity disappears for everyone at the next tick, the
   * entities it held return to the server, and the playground type's onLeave runs.
   */
  leave(conn: ClientConnection): void {
    const room = conn.room;
    if (!room || room.members.get(conn.clientId) !== conn) return;
    room.members.delete(conn.clientId);
    if (room.byUser.get(conn.userId) === conn) room.byUser.delete(conn.userId);
    room.logic.leave(conn.clientId);
    room.replicator.dropClient(conn.clientId);
    this.players--;
    if (room.members.size === 0) room.emptySince = this.options.now();
  }

  /** Runs every playground's onDispose (the server is stopping). */
  disposeAll(): void {
    for (const [id, room] of this.rooms) {
      this.rooms.delete(id);
      room.logic.dispose();
    }
  }

  /** One tick over every playground. */
  tick(): void {
    const tick = ++this.tickNumber;
    const now = this.options.now();
    const dtMs = this.lastTickAt === null ? 0 : now - this.lastTickAt;
    this.lastTickAt = now;
    for (const [id, room] of this.rooms) {
      if (room.members.size === 0) {
        // Keep empty playgrounds for a while (a client may rejoin), then forget them.
        room.replicator.update(tick);
        if (room.emptySince !== null && now - room.emptySince >= this.options.playgroundIdleMs) {
          this.rooms.delete(id);
          room.logic.dispose();
          room.playground.takeChanges();
          this.options.logger.info({ playgroundId: id }, 'playground removed (empty)');
        }
        continue;
      }
      this.tickRoom(room, tick, now, dtMs);
    }
  }

  private tickRoom(room: Room, tick: number, now: number, dtMs: number): void {
    const { playground } = room;
    for (const conn of room.members.values()) {
      if (conn.moves.size === 0) continue;
      for (const [entityId, move] of conn.moves) {
        const e = playground.get(entityId);
        if (e && e.owner === conn.clientId) playground.setTransform(entityId, move.position, move.rotation);
      }
      conn.moves.clear();
    }
    // The playground type's tick sees this tick's moves; its changes go out in this tick's delta.
    room.logic.tick(tick, dtMs);
    room.replicator.update(tick);
    const sent = sendTick(playground.id, room.members.values(), room.replicator, now, this.options);
    if (sent.skips > 0) this.options.metrics.backpressureSkips.inc(sent.skips);
    this.options.stats?.add(sent.bytes, sent.skips);
  }
}
