import type { Logger } from '@plexus/kit';
import type { PlayerSave, PlayersJoinResult, PlayersLeaveParams, Quat, Vec3 } from '@plexus/protocol';
import { type ControlRpc, ControlRpcError } from '../control/control-rpc.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { Presence } from '../playground/member.ts';
import type { PlaygroundHost } from '../playground/playground-host.ts';
import type { Room, Transform } from '../playground/room.ts';

export interface PlayerSyncOptions {
  rpc: ControlRpc;
  host: PlaygroundHost;
  serverId: string;
  wallClock: () => number;
  logger: Logger;
  metrics: ServerMetrics;
  /** players.save cadence. */
  saveIntervalMs?: number;
}

/** The join call may outlive the join's own budget (500 ms): a late answer still delivers the inbox. */
const JOIN_TIMEOUT_MS = 3_000;
const SAVE_TIMEOUT_MS = 5_000;
const LEAVE_TIMEOUT_MS = 5_000;
/** A member is saved at least this often even when idle, so their presence does not lapse. */
const PRESENCE_REFRESH_MS = 10_000;
/** Users per players.save call. */
const SAVE_BATCH = 200;
/** Leaves kept while no balancer is up; beyond, the oldest are dropped. */
const MAX_PENDING_LEAVES = 1_000;

/**
 * Player records through the balancer: `players.join` on a fresh join (record + offline inbox),
 * a periodic `players.save` per playground of the members who moved or whose data changed (and
 * everyone now and then, which keeps their presence alive), and `players.leave` when a stay ends.
 * Saves wait while no balancer is up (the latest state goes when one returns); leaves are queued.
 */
export class PlayerSync {
  private readonly options: PlayerSyncOptions;
  private readonly pendingLeaves: PlayersLeaveParams[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | null = null;
  private offAvailable: (() => void) | null = null;

  constructor(options: PlayerSyncOptions) {
    this.options = options;
  }

  start(): void {
    this.timer = setInterval(() => this.saveRound(), this.options.saveIntervalMs ?? 5_000);
    this.offAvailable = this.options.rpc.onAvailable(() => void this.flushLeaves());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.offAvailable?.();
    this.offAvailable = null;
  }

  /** The user's record and inbox; null when the call failed (the join goes on without them). */
  async join(userId: string, playgroundId: string): Promise<PlayersJoinResult | null> {
    const { rpc, serverId } = this.options;
    try {
      return await rpc.call(
        'players.join',
        { serverId, userId, playgroundId },
        { timeoutMs: JOIN_TIMEOUT_MS },
      );
    } catch (err) {
      this.failed('players.join', err);
      return null;
    }
  }

  /** A stay ended: the last save of the record, and the end of the user's presence. */
  leave(playgroundId: string, presence: Presence, avatar: Transform | null): void {
    const params: PlayersLeaveParams = {
      serverId: this.options.serverId,
      playgroundId,
      userId: presence.userId,
      sessionMs: Math.max(0, this.options.wallClock() - presence.joinedAt),
      data: presence.data,
    };
    if (avatar) {
      params.position = avatar.position;
      params.rotation = avatar.rotation;
    }
    if (this.pendingLeaves.length >= MAX_PENDING_LEAVES) this.pendingLeaves.shift();
    this.pendingLeaves.push(params);
    void this.flushLeaves();
  }

  /** Sends the queued leaves (one call each, in order) while a balancer is up. */
  async flushLeaves(): Promise<void> {
    const { rpc } = this.options;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pendingLeaves.length > 0 && rpc.available) {
        const params = this.pendingLeaves[0] as PlayersLeaveParams;
        try {
          await rpc.call('players.leave', params, { timeoutMs: LEAVE_TIMEOUT_MS, retry: true });
        } catch (err) {
          // No balancer after all: keep it for the next link; any other answer is final.
          if (err instanceof ControlRpcError && err.is('DS_NO_BALANCER')) break;
          this.failed('players.leave', err);
        }
        this.pendingLeaves.shift();
      }
    } finally {
      this.flushing = false;
    }
  }

  /** players.save for every live playground whose members changed (or are due a presence refresh). */
  saveRound(): void {
    if (!this.options.rpc.available) return;
    for (const room of this.options.host.hostedRooms()) {
      if (room.state === 'live' && !room.saving) void this.save(room);
    }
  }

  private async save(room: Room): Promise<void> {
    const now = this.options.wallClock();
    const due: { presence: Presence; save: PlayerSave; transform: Transform }[] = [];
    for (const member of room.members.values()) {
      const presence = member.presence;
      const e = room.playground.get(presence.avatarId);
      if (!e) continue;
      const moved =
        !presence.saved ||
        !sameVec(presence.saved.position, e.position) ||
        !sameQuat(presence.saved.rotation, e.rotation);
      if (!moved && !presence.dataChanged && now - presence.savedAt < PRESENCE_REFRESH_MS) continue;
      const save: PlayerSave = { userId: presence.userId };
      if (moved) {
        save.position = { ...e.position };
        save.rotation = { ...e.rotation };
      }
      if (presence.dataChanged) save.data = presence.data;
      due.push({ presence, save, transform: { position: { ...e.position }, rotation: { ...e.rotation } } });
    }
    if (due.length === 0) return;
    room.saving = true;
    const { rpc, serverId } = this.options;
    try {
      // Every due member goes out this round, a batch at a time (none waits behind busier ones).
      for (let i = 0; i < due.length; i += SAVE_BATCH) {
        const batch = due.slice(i, i + SAVE_BATCH);
        await rpc.call(
          'players.save',
          { serverId, playgroundId: room.playground.id, players: batch.map((b) => b.save) },
          { timeoutMs: SAVE_TIMEOUT_MS, retry: true },
        );
        for (const { presence, save, transform } of batch) {
          presence.saved = transform;
          presence.savedAt = now;
          // Data set again while the save was in flight stays marked for the next one.
          if (save.data !== undefined && presence.data === save.data) presence.dataChanged = false;
        }
      }
    } catch (err) {
      this.failed('players.save', err);
    } finally {
      room.saving = false;
    }
  }

  private failed(method: string, err: unknown): void {
    this.options.metrics.controlRpcErrors.inc({ method });
    this.options.logger.debug({ method, err: (err as Error).message }, 'player record call failed');
  }
}

function sameVec(a: Vec3, b: Vec3): boolean {
  return a.x === b.x && a.y === b.y && a.z === b.z;
}

function sameQuat(a: Quat, b: Quat): boolean {
  return a.x === b.x && a.y === b.y && a.z === b.z && a.w === b.w;
}
