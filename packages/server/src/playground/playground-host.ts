import type { Logger } from '@plexus/kit';
import type { ErrorName, PlaygroundLoad } from '@plexus/protocol';
import type { ReplayCache } from '../control/replay-cache.ts';
import type { VerifiedTicket } from '../control/ticket-verifier.ts';
import type { ServerMetrics } from '../metrics.ts';
import { StateBuilder } from '../replication/state-builder.ts';
import type { ClientConnection } from '../transport/client-connection.ts';
import { avatarProps, type RandomHex4 } from './avatar-profile.ts';
import { Playground } from './playground.ts';

/** A hosted playground and the clients in it. */
export interface Room {
  playground: Playground;
  members: Map<number, ClientConnection>;
  /** userId → connection: one seat per identity per playground. */
  byUser: Map<string, ClientConnection>;
  /** Monotonic ms since which the room has had no member, or null. */
  emptySince: number | null;
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
}

const IDENTITY = { x: 0, y: 0, z: 0, w: 1 } as const;

/**
 * Every playground of this server, created on demand when a valid ticket names one and removed
 * when empty for a while. `tick()` runs them all: apply moves, build one delta per playground,
 * send the same bytes to each client, welcome new clients with a keyframe.
 */
export class PlaygroundHost {
  private readonly options: PlaygroundHostOptions;
  private readonly rooms = new Map<string, Room>();
  private readonly builder = new StateBuilder();
  private tickNumber = 0;
  private players = 0;
  private tickMsSum = 0;
  private tickCount = 0;

  constructor(options: PlaygroundHostOptions) {
    this.options = options;
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
   * Admits a verified ticket: refuses replays and a full server, replaces an earlier connection of
   * the same user in that playground, then creates the avatar. Null on success.
   */
  admit(conn: ClientConnection, ticket: VerifiedTicket): ErrorName | null {
    const { options } = this;
    if (options.replay.has(ticket.jti)) return 'PROTOCOL_TICKET_REPLAYED';
    const previous = this.rooms.get(ticket.pg)?.byUser.get(ticket.sub);
    if (this.players - (previous ? 1 : 0) >= options.capacity) return 'PROTOCOL_SERVER_FULL';
    if (!options.replay.add(ticket.jti, ticket.exp * 1000)) return 'PROTOCOL_SERVER_FULL';
    if (previous) previous.refuse('PROTOCOL_DUPLICATE_LOGIN');

    let room = this.rooms.get(ticket.pg);
    if (!room) {
      room = {
        playground: new Playground(ticket.pg),
        members: new Map(),
        byUser: new Map(),
        emptySince: null,
      };
      this.rooms.set(ticket.pg, room);
      options.logger.info({ playgroundId: ticket.pg }, 'playground created');
    }
    const random = options.random ?? Math.random;
    const angle = random() * 2 * Math.PI;
    const radius = Math.sqrt(random()) * (options.spawnRadiusM ?? 4);
    const avatar = room.playground.spawn({
      owner: conn.clientId,
      kind: 'avatar',
      position: { x: Math.cos(angle) * radius, y: 0, z: Math.sin(angle) * radius },
      rotation: IDENTITY,
      props: avatarProps(ticket.prof, options.randomHex4),
    });
    conn.room = room;
    conn.userId = ticket.sub;
    conn.avatarId = avatar.id;
    conn.log = conn.log.child({ playgroundId: ticket.pg });
    room.members.set(conn.clientId, conn);
    room.byUser.set(ticket.sub, conn);
    room.emptySince = null;
    this.players++;
    conn.log.info({ avatarId: avatar.id, incognito: ticket.prof.privacyMode !== 0 }, 'client joined');
    options.onTicketRedeemed(ticket.jti, ticket.pg);
    return null;
  }

  /** Removes a client's avatar and seat; its entity disappears for everyone at the next tick. */
  leave(conn: ClientConnection): void {
    const room = conn.room;
    if (!room || room.members.get(conn.clientId) !== conn) return;
    room.members.delete(conn.clientId);
    if (room.byUser.get(conn.userId) === conn) room.byUser.delete(conn.userId);
    room.playground.remove(conn.avatarId);
    this.players--;
    if (room.members.size === 0) room.emptySince = this.options.now();
  }

  /** One tick over every playground. */
  tick(): void {
    const tick = ++this.tickNumber;
    const now = this.options.now();
    for (const [id, room] of this.rooms) {
      if (room.members.size === 0) {
        // Keep empty playgrounds for a while (a client may rejoin), then forget them.
        room.playground.takeChanges();
        if (room.emptySince !== null && now - room.emptySince >= this.options.playgroundIdleMs) {
          this.rooms.delete(id);
          this.options.logger.info({ playgroundId: id }, 'playground removed (empty)');
        }
        continue;
      }
      this.tickRoom(room, tick, now);
    }
  }

  private tickRoom(room: Room, tick: number, now: number): void {
    const { playground } = room;
    for (const conn of room.members.values()) {
      if (conn.moves.size === 0) continue;
      for (const [entityId, move] of conn.moves) {
        const e = playground.get(entityId);
        if (e && e.owner === conn.clientId) playground.setTransform(entityId, move.position, move.rotation);
      }
      conn.moves.clear();
    }
    const delta = this.builder.delta(playground, tick);
    let keyframe: Uint8Array | null = null;
    const { maxBufferedBytes, slowConsumerGraceMs, metrics } = this.options;
    // Copy: a refusal below removes the member from the map while we iterate.
    for (const conn of [...room.members.values()]) {
      if (conn.bufferedAmount > maxBufferedBytes) {
        conn.stuckSince ??= now;
        if (now - conn.stuckSince > slowConsumerGraceMs) {
          conn.refuse('PROTOCOL_SLOW_CONSUMER');
          continue;
        }
        if (delta || !conn.welcomed) metrics.backpressureSkips.inc();
        conn.needsKeyframe = true;
        continue;
      }
      conn.stuckSince = null;
      if (!conn.welcomed) {
        keyframe ??= this.builder.keyframe(playground, tick);
        conn.sendWelcome(playground.id, keyframe);
      } else if (conn.needsKeyframe) {
        keyframe ??= this.builder.keyframe(playground, tick);
        conn.send(keyframe);
        conn.needsKeyframe = false;
      } else if (delta) {
        conn.send(delta);
      }
    }
  }
}
