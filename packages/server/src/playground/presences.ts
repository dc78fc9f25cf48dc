import type { Logger } from '@plexus/kit';
import type { Presence } from './member.ts';
import type { AwaySeat, HostCluster, Room, Transform } from './room.ts';

export interface PresencesOptions {
  /** How long an away seat waits for its user (0: there are none). */
  resumeGraceMs: number;
  /** Monotonic clock (ms). */
  now: () => number;
  wallClock: () => number;
  logger: Logger;
  cluster?: HostCluster | undefined;
}

/**
 * Away seats — presences whose connection dropped, or that a restored checkpoint brought back — and
 * the end of a stay. A seat keeps its avatar and entities until its user resumes (`take`) or the
 * grace runs out (`end`: the avatar goes, its entities return to the server, players.leave).
 */
export class Presences {
  private readonly options: PresencesOptions;

  constructor(options: PresencesOptions) {
    this.options = options;
  }

  get graceful(): boolean {
    return this.options.resumeGraceMs > 0;
  }

  /** Seats a presence; its grace runs while the room is live (a frozen room's seats travel). */
  park(room: Room, presence: Presence, clientId: number, since: number): AwaySeat {
    const seat: AwaySeat = { presence, clientId, since, timer: null };
    room.away.set(presence.userId, seat);
    if (room.state === 'live') seat.timer = this.graceTimer(room, seat);
    room.emptySince = null;
    return seat;
  }

  /** The user is back: the seat is theirs again (the caller hands its entities over). */
  take(room: Room, seat: AwaySeat): void {
    if (seat.timer) clearTimeout(seat.timer);
    seat.timer = null;
    room.away.delete(seat.presence.userId);
  }

  /** Removes a seat's avatar and returns what it held to the server; `ended`: the stay is over. */
  end(room: Room, seat: AwaySeat, ended: boolean): void {
    if (room.away.get(seat.presence.userId) !== seat) return;
    this.take(room, seat);
    const avatar = transformOf(room, seat.presence.avatarId);
    room.logic.removeAvatar(seat.presence.avatarId);
    room.logic.releaseAll(seat.clientId);
    room.metaRevision++;
    if (ended) this.ended(room, seat.presence, avatar);
    this.markEmpty(room);
  }

  /** Stops every seat's grace (a draining room: its seats travel in the final checkpoint). */
  freeze(room: Room): void {
    for (const seat of room.away.values()) {
      if (seat.timer) clearTimeout(seat.timer);
      seat.timer = null;
    }
  }

  /** Forgets every seat without ending anything (the room moved). */
  clear(room: Room): void {
    this.freeze(room);
    room.away.clear();
  }

  /** A user's stay in the playground ended: last save, presence over, analytics. */
  ended(room: Room, presence: Presence, avatar: Transform | null): void {
    const { cluster, wallClock } = this.options;
    if (!cluster) return;
    cluster.playerLeave(room.playground.id, presence, avatar);
    cluster.record({
      type: 'leave',
      at: wallClock(),
      userId: presence.userId,
      playgroundId: room.playground.id,
      data: { sessionMs: Math.max(0, wallClock() - presence.joinedAt) },
    });
  }

  /** Starts the idle clock of a room with nobody in it, connected or away. */
  markEmpty(room: Room): void {
    if (room.members.size === 0 && room.away.size === 0 && room.emptySince === null)
      room.emptySince = this.options.now();
  }

  private graceTimer(room: Room, seat: AwaySeat): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (room.away.get(seat.presence.userId) !== seat) return;
      this.options.logger.info(
        { playgroundId: room.playground.id, avatarId: seat.presence.avatarId },
        'resume grace over; avatar removed',
      );
      this.end(room, seat, true);
    }, this.options.resumeGraceMs);
    timer.unref();
    return timer;
  }
}

/** An entity's transform (a copy), or null when it is gone. */
export function transformOf(room: Room, entityId: number): Transform | null {
  const e = room.playground.get(entityId);
  return e ? { position: { ...e.position }, rotation: { ...e.rotation } } : null;
}
