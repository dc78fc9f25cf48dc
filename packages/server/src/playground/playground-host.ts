import type { Logger } from '@plexus/kit';
import {
  type ErrorName,
  encodeEvent,
  type PlayerRecord,
  type PlayersJoinResult,
  type PlaygroundLoad,
} from '@plexus/protocol';
import type { ResumeTokens } from '../continuity/resume-tokens.ts';
import type { ReplayCache } from '../control/replay-cache.ts';
import type { VerifiedTicket } from '../control/ticket-verifier.ts';
import { ticketUsableUntilMs } from '../control/ticket-verifier.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { ReplicationStats } from '../replication/replication-stats.ts';
import type { InterestOptions } from '../replication/replicator.ts';
import type { LeaveKind, MemberLink, PlaygroundFrame, Refusal } from '../transport/link.ts';
import { avatarProps, type RandomHex4, readmittedAvatarProps } from './avatar-profile.ts';
import { Member, type MemberRoom, type Presence } from './member.ts';
import { Presences, transformOf } from './presences.ts';
import { type AwaySeat, type HostCluster, type Room, stateRevision } from './room.ts';
import { openRoom } from './room-factory.ts';
import { takeMoves, tickRoom } from './room-tick.ts';
import { randomPlace, spawnPlace } from './spawn-place.ts';
import { PlaygroundTypes } from './type-registry.ts';

export type { HostCluster, Room } from './room.ts';

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
  /** Wall clock (ms since epoch): presence start, session lengths. */
  wallClock?: () => number;
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
  /**
   * Claim, player records, events, analytics. Without it the host runs alone: playgrounds go live
   * at once and nothing is checkpointed (unit tests).
   */
  cluster?: HostCluster;
  /** How long a dropped user's avatar waits for a resume (0: it leaves at once). */
  resumeGraceMs?: number;
  /** Checks the `rt` claim of tickets; without it every join is fresh. */
  resumeTokens?: ResumeTokens;
  /** Client ids for users restored from a checkpoint (shared with the gateway's ids). */
  allocateClientId?: () => number;
  /** True once new joins must be refused (the server started draining during an admission). */
  refuseNew?: () => boolean;
  /** A live playground is about to be removed (idle): its last checkpoint is written from here. */
  onRetire?: (room: Room) => void;
}

/** Interest defaults when the host is built without a config (tests). */
export const DEFAULT_INTEREST: InterestOptions = {
  radiusM: 100,
  hysteresisM: 10,
  cellSizeM: 16,
  fullRateM: 25,
  farPeriodTicks: 4,
};

/** players.join gets this long (beside the claim) before the join goes on without the record. */
const PLAYER_JOIN_BUDGET_MS = 500;

/**
 * Every playground of this server, created on demand when a valid ticket names one (claimed from
 * the cluster and restored from its checkpoint first) and removed when empty for a while. `tick()`
 * runs them all: apply moves, build one delta per playground, send the same bytes to each client,
 * welcome new clients with a keyframe. Users whose connection dropped keep their avatar for the
 * resume grace.
 */
export class PlaygroundHost {
  private readonly options: PlaygroundHostOptions;
  private readonly rooms = new Map<string, Room>();
  private tickNumber = 0;
  private players = 0;
  /** Admissions past the capacity check still waiting for their playground. */
  private admitting = 0;
  private tickMsSum = 0;
  private tickCount = 0;
  private lastTickAt: number | null = null;
  private readonly types: PlaygroundTypes;
  private readonly wallClock: () => number;
  private nextLocalClientId = -1;
  private readonly presences: Presences;
  /** Every connected member by client id, with its room: where a connection's frames and end go. */
  private readonly byClient = new Map<number, { member: Member; room: Room }>();

  constructor(options: PlaygroundHostOptions) {
    this.options = options;
    this.types = options.types ?? new PlaygroundTypes();
    this.wallClock = options.wallClock ?? Date.now;
    this.presences = new Presences({
      resumeGraceMs: options.resumeGraceMs ?? 0,
      now: options.now,
      wallClock: this.wallClock,
      logger: options.logger,
      cluster: options.cluster,
    });
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

  /** Users whose avatar waits for a resume, across playgrounds. */
  get awayCount(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.away.size;
    return n;
  }

  get currentTick(): number {
    return this.tickNumber;
  }

  room(playgroundId: string): Room | undefined {
    return this.rooms.get(playgroundId);
  }

  /** Every room this server hosts now (live or draining). */
  hostedRooms(): Room[] {
    const out: Room[] = [];
    for (const room of this.rooms.values())
      if (room.state === 'live' || room.state === 'frozen') out.push(room);
    return out;
  }

  /** Every room, including those still claiming (drain waits for them). */
  allRooms(): Room[] {
    return [...this.rooms.values()];
  }

  playgroundLoads(): PlaygroundLoad[] {
    const loads: PlaygroundLoad[] = [];
    const at = this.options.now();
    for (const room of this.hostedRooms()) {
      const load: PlaygroundLoad = { playgroundId: room.playground.id, players: room.members.size };
      if (room.checkpoint.epoch > 0) {
        load.epoch = room.checkpoint.epoch;
        load.checkpointAgeMs = Math.max(0, Math.round(at - room.checkpoint.savedAtMs));
      }
      loads.push(load);
    }
    return loads;
  }

  /**
   * The oldest unsaved change, ms: the largest checkpoint age among rooms whose state moved on since
   * their last accepted checkpoint (operations.md, "Checkpoints").
   */
  checkpointLagMs(): number {
    const at = this.options.now();
    let lag = 0;
    for (const room of this.hostedRooms()) {
      const cp = room.checkpoint;
      if (cp.epoch === 0 || cp.acceptedRevision === stateRevision(room)) continue;
      lag = Math.max(lag, Math.round(at - cp.savedAtMs));
    }
    return lag;
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
   * Admits a verified ticket: refuses replays and a full server, creates the playground if needed
   * (claim + restore first; the WELCOME waits), takes the user's record sent beside the ticket (or
   * waits, within a budget, for the one players.join fetches beside the claim), then seats the
   * user — resuming their earlier presence when the ticket carries a valid resume token — and asks
   * the playground type (onJoin). Null on success; a refused join leaves no trace but the playground
   * it may have created (removed when idle), and its ticket may be used again.
   */
  async admit(link: MemberLink, ticket: VerifiedTicket): Promise<Refusal | null> {
    const { options } = this;
    if (options.replay.has(ticket.jti)) return { name: 'PROTOCOL_TICKET_REPLAYED' };
    const previous = this.rooms.get(ticket.pg)?.byUser.get(ticket.sub);
    if (this.players + this.admitting - (previous ? 1 : 0) >= options.capacity)
      return { name: 'PROTOCOL_SERVER_FULL' };
    if (!options.replay.add(ticket.jti, ticketUsableUntilMs(ticket.exp)))
      return { name: 'PROTOCOL_SERVER_FULL' };
    const resuming = options.resumeTokens?.check(ticket.rt, ticket.sub, ticket.pg) !== undefined;
    this.admitting++;
    let refusal: Refusal | null;
    try {
      refusal = await this.admitInRoom(link, ticket, resuming);
    } finally {
      this.admitting--;
    }
    if (refusal) options.replay.delete(ticket.jti);
    return refusal;
  }

  private async admitInRoom(
    link: MemberLink,
    ticket: VerifiedTicket,
    resuming: boolean,
  ): Promise<Refusal | null> {
    const { options } = this;
    const startedAt = options.now();
    // A resume keeps the presence it had. A fresh join records presence and takes the inbox with
    // players.join, beside the claim; its record usually came already, beside the ticket.
    const sent = resuming ? undefined : options.cluster?.prefetchedRecord(ticket.jti, ticket.sub, ticket.pg);
    const joining = options.cluster && !resuming ? options.cluster.playerJoin(ticket.sub, ticket.pg) : null;
    const room = this.rooms.get(ticket.pg) ?? this.createRoom(ticket.pg);
    if (!(await room.ready)) {
      return { name: 'PROTOCOL_NOT_READY', message: 'The playground could not be claimed; try again' };
    }
    const { record, joined } =
      joining && sent === undefined
        ? await this.firstRecord(ticket, joining, PLAYER_JOIN_BUDGET_MS - (options.now() - startedAt))
        : { record: sent ?? null, joined: null };
    if (link.isClosed) return { name: 'PROTOCOL_SHUTTING_DOWN' }; // nobody to tell
    if (room.state === 'frozen' || options.refuseNew?.()) return { name: 'PROTOCOL_SHUTTING_DOWN' };
    if (room.state !== 'live') return { name: 'PROTOCOL_PLAYGROUND_MOVED' };
    const seated = this.seat(link, ticket, room, resuming, record);
    if (!(seated instanceof Member)) return seated;
    // WELCOME and the keyframe leave now, not at the next tick (docs/protocol.md §5.1).
    const keyframe = room.replicator.keyframeBetweenTicks(
      seated.clientId,
      seated.avatarId,
      this.tickNumber,
      seated.chunkLayout,
    );
    seated.sendWelcome(room.playground.id, keyframe);
    if (joined) {
      this.deliverInbox(seated, joined);
    } else if (joining) {
      // Seated with the record sent beside the ticket, or over budget without one: the inbox
      // (already taken) still comes, and the data players.join read, unless logic set it since.
      void joining.then((late) => {
        if (!late || link.isClosed || room.members.get(seated.clientId) !== seated) return;
        if (late.record && !seated.presence.dataChanged) seated.presence.data = late.record.data;
        this.deliverInbox(seated, late);
      });
    }
    return null;
  }

  /**
   * A HELLO that came before its record: whichever comes first within the budget, the record sent
   * beside the ticket or players.join's answer (null record: neither came in time).
   */
  private async firstRecord(
    ticket: VerifiedTicket,
    joining: Promise<PlayersJoinResult | null>,
    budgetMs: number,
  ): Promise<{ record: PlayerRecord | null; joined: PlayersJoinResult | null }> {
    const arriving = this.options.cluster?.recordArrival(ticket.jti, ticket.sub, ticket.pg);
    const sent = arriving?.record.then((record) => ({ record, joined: null }));
    const first = await withinBudget(
      Promise.race([
        joining.then((joined) => ({ record: joined?.record ?? null, joined })),
        ...(sent ? [sent] : []),
      ]),
      budgetMs,
    );
    arriving?.cancel();
    return first ?? { record: null, joined: null };
  }

  /** Events stored for the user while they were offline: EVENT frames right after WELCOME. */
  private deliverInbox(member: Member, joined: PlayersJoinResult): void {
    for (const event of joined.inbox) member.sendEvent(encodeEvent(event));
    if (joined.inbox.length > 0) this.options.metrics.eventsDelivered.inc(joined.inbox.length);
  }

  /** The synchronous end of an admission, once the room is live: the new member, or the refusal. */
  private seat(
    link: MemberLink,
    ticket: VerifiedTicket,
    room: Room,
    resuming: boolean,
    record: PlayerRecord | null,
  ): Member | Refusal {
    const { options } = this;
    const userId = ticket.sub;
    let previous = room.byUser.get(userId);
    let away = room.away.get(userId);
    let presence: Presence;
    let resumed = false;
    if (resuming && (previous || away)) {
      // The user takes their presence back: a connection the server still thinks alive first
      // becomes an away seat, then the new one inherits its avatar and everything it held.
      if (previous) {
        away = this.toSeat(room, previous);
        previous.refuse('PROTOCOL_DUPLICATE_LOGIN');
        previous = undefined;
      }
      const seat = away as AwaySeat;
      options.metrics.resumeDowntime.observe(Math.max(0, this.wallClock() - seat.since) / 1000);
      this.presences.take(room, seat);
      room.logic.transferAll(seat.clientId, link.clientId);
      presence = seat.presence;
      presence.profile = ticket.prof;
      // Resume, drain redirect and restore all come here: the avatar shows the ticket's profile now.
      const avatar = room.playground.get(presence.avatarId);
      if (avatar) {
        room.playground.setProps(
          avatar.id,
          readmittedAvatarProps(avatar.props, ticket.prof, options.randomHex4),
        );
      }
      resumed = true;
    } else {
      // A fresh join ends any presence the user left waiting here.
      if (away) this.presences.end(room, away, false);
      const place =
        spawnPlace(record) ?? randomPlace(options.random ?? Math.random, options.spawnRadiusM ?? 4);
      const avatarId = room.logic.spawnAvatar(
        link.clientId,
        place.position,
        avatarProps(ticket.prof, options.randomHex4),
        place.rotation,
      );
      presence = {
        userId,
        profile: ticket.prof,
        avatarId,
        joinedAt: this.wallClock(),
        data: record?.data ?? {},
        dataChanged: false,
        saved: null,
        savedAt: 0,
      };
    }
    const avatarId = presence.avatarId;
    const member = new Member(link, { ticket, presence, resumed }, this.memberRoom(room));
    // A duplicate login's avatar is still there during onJoin; it leaves once the new one is in.
    const refusal = room.logic.join(
      {
        clientId: link.clientId,
        userId,
        avatarId,
        displayName: String(room.playground.get(avatarId)?.props.displayName ?? ''),
        incognito: ticket.prof.privacyMode !== 0,
        send: (bytes) => member.sendMessage(bytes),
      },
      previous?.clientId,
    );
    if (refusal) {
      if (resumed) this.presences.ended(room, presence, null);
      this.presences.markEmpty(room);
      link.log.info({ playgroundId: ticket.pg, reason: refusal.message }, 'join refused by the playground');
      return { name: refusal.error, message: refusal.message };
    }
    if (previous) previous.refuse('PROTOCOL_DUPLICATE_LOGIN');

    room.members.set(member.clientId, member);
    room.byUser.set(userId, member);
    this.byClient.set(member.clientId, { member, room });
    room.emptySince = null;
    room.metaRevision++;
    this.players++;
    member.log.info({ avatarId, resumed, incognito: ticket.prof.privacyMode !== 0 }, 'client joined');
    options.onTicketRedeemed(ticket.jti, ticket.pg);
    if (resumed) options.metrics.resumes.inc();
    else options.cluster?.record({ type: 'join', at: this.wallClock(), userId, playgroundId: ticket.pg });
    return member;
  }

  /** What a member of `room` reaches of it. */
  private memberRoom(room: Room): MemberRoom {
    return new RoomOfMember(room, this.options);
  }

  /** A playground frame from a member's connection. */
  input(link: MemberLink, frame: PlaygroundFrame): void {
    const seated = this.byClient.get(link.clientId);
    if (seated?.member.link !== link) return;
    seated.room.inputSerial++;
    seated.member.input(frame);
  }

  /** The connected member with this client id. */
  member(clientId: number): Member | undefined {
    return this.byClient.get(clientId)?.member;
  }

  private createRoom(playgroundId: string): Room {
    const { options } = this;
    const room = openRoom(playgroundId, {
      types: this.types,
      logger: options.logger,
      metrics: options.metrics,
      now: options.now,
      wallClock: this.wallClock,
      maxSpeedMps: options.maxSpeedMps ?? 50,
      interest: options.interest ?? DEFAULT_INTEREST,
      cluster: options.cluster,
      presences: this.presences,
      currentTick: () => this.tickNumber,
      allocateClientId: () => this.allocateClientId(),
    });
    this.rooms.set(playgroundId, room);
    // A failed claim leaves nothing behind: the next join claims again.
    void room.ready.then((live) => {
      if (!live && this.rooms.get(playgroundId) === room) this.rooms.delete(playgroundId);
    });
    return room;
  }

  private allocateClientId(): number {
    // Standalone hosts (tests) have no shared allocator: negative ids never meet a socket's.
    return this.options.allocateClientId?.() ?? this.nextLocalClientId--;
  }

  /**
   * A connection ended. LEAVE or a protocol error: the avatar goes at once, the entities it held
   * return to the server, and the user's stay ends (players.leave). A drop: the presence waits for a
   * resume in an away seat. A move: nothing changes here, the playground's state travels.
   */
  leave(link: MemberLink, connectionEnd: LeaveKind = 'leave'): void {
    const seated = this.byClient.get(link.clientId);
    if (seated?.member.link !== link) return;
    const { member, room } = seated;
    if (room.members.get(member.clientId) !== member) return;
    const kind = member.moving ? 'moved' : connectionEnd;
    if (kind === 'drop' && this.presences.graceful && (room.state === 'live' || room.state === 'frozen')) {
      this.toSeat(room, member);
      return;
    }
    this.removeMember(room, member);
    const avatar = transformOf(room, member.avatarId);
    if (kind !== 'moved' && room.state !== 'gone') {
      room.logic.leave(member.clientId);
      if (kind !== 'replaced') this.presences.ended(room, member.presence, avatar);
    }
    this.presences.markEmpty(room);
    room.onMemberGone?.();
  }

  /** Its moves queued for this tick still land (a LEAVE right behind a MOVE saves that move). */
  private removeMember(room: Room, member: Member): void {
    takeMoves(room, member);
    room.members.delete(member.clientId);
    if (room.byUser.get(member.userId) === member) room.byUser.delete(member.userId);
    if (this.byClient.get(member.clientId)?.member === member) this.byClient.delete(member.clientId);
    room.replicator.dropClient(member.clientId);
    room.metaRevision++;
    this.players--;
  }

  /** The member's presence moves to an away seat; its avatar and entities stay as they are. */
  private toSeat(room: Room, member: Member): AwaySeat {
    this.removeMember(room, member);
    room.logic.detach(member.clientId);
    const seat = this.presences.park(room, member.presence, member.clientId, this.wallClock());
    member.log.info({ graceMs: this.options.resumeGraceMs }, 'connection dropped; avatar kept for a resume');
    room.onMemberGone?.();
    return seat;
  }

  /**
   * Stops hosting a playground at once, without writing anything (another server holds a newer
   * epoch): its clients are closed with PLAYGROUND_MOVED (4014) so they resolve it again. With
   * `only`, nothing happens unless that room is the one hosted now.
   */
  release(playgroundId: string, why: string, only?: Room): boolean {
    const room = this.rooms.get(playgroundId);
    // A late answer about a room this server already let go must not touch its successor.
    if (!room || (only && room !== only)) return false;
    this.options.logger.warn({ playgroundId, why, clients: room.members.size }, 'playground released');
    this.retire(room);
    for (const member of [...room.members.values()]) member.refuse('PROTOCOL_PLAYGROUND_MOVED');
    return true;
  }

  /** Draining: the room's inputs are ignored and nothing in it changes; away seats stop expiring. */
  freeze(room: Room): void {
    if (room.state !== 'live') return;
    room.state = 'frozen';
    this.presences.freeze(room);
  }

  /** Forgets a room (moved or released); its logic's onDispose runs. */
  retire(room: Room): void {
    if (this.rooms.get(room.playground.id) === room) this.rooms.delete(room.playground.id);
    const hosted = room.state === 'live' || room.state === 'frozen';
    room.state = 'gone';
    this.presences.clear(room);
    if (hosted) room.logic.dispose();
  }

  /** Runs every playground's onDispose (the server is stopping). */
  disposeAll(): void {
    for (const room of [...this.rooms.values()]) this.retire(room);
  }

  /** One tick over every playground. */
  tick(): void {
    const tick = ++this.tickNumber;
    const now = this.options.now();
    const dtMs = this.lastTickAt === null ? 0 : now - this.lastTickAt;
    this.lastTickAt = now;
    for (const room of this.rooms.values()) {
      if (room.state === 'claiming') continue;
      if (room.members.size === 0) {
        // Keep empty playgrounds for a while (a client may rejoin), then forget them.
        room.replicator.update(tick);
        if (
          room.state === 'live' &&
          room.away.size === 0 &&
          room.emptySince !== null &&
          now - room.emptySince >= this.options.playgroundIdleMs
        ) {
          this.options.onRetire?.(room);
          this.retire(room);
          room.playground.takeChanges();
          this.options.logger.info({ playgroundId: room.playground.id }, 'playground removed (empty)');
        }
        continue;
      }
      tickRoom(room, tick, now, dtMs, this.options);
    }
  }
}

/**
 * A room as its members see it. A class, not an object literal with a getter: `live` is read for
 * every frame a member sends (~8,000 MOVEs a second at N = 400), and a class's getter is inlined.
 */
class RoomOfMember implements MemberRoom {
  private readonly room: Room;
  private readonly options: PlaygroundHostOptions;
  readonly playgroundId: string;
  readonly logic: Room['logic'];

  constructor(room: Room, options: PlaygroundHostOptions) {
    this.room = room;
    this.options = options;
    this.playgroundId = room.playground.id;
    this.logic = room.logic;
  }

  get live(): boolean {
    return this.room.state === 'live';
  }

  refused(name: ErrorName): void {
    this.options.metrics.framesRefused.inc({ error: name });
  }

  resumeToken(member: Member): string | undefined {
    return this.options.resumeTokens?.issue(member.userId, this.playgroundId, member.avatarId);
  }
}

/** `p`'s value, or null when it takes longer than `ms` (p itself never rejects). */
function withinBudget<T>(p: Promise<T | null>, ms: number): Promise<T | null> {
  if (ms <= 0) return Promise.race([p, Promise.resolve(null)]);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
