import { setImmediate as yieldToTicks } from 'node:timers/promises';
import type { Logger } from '@plexus/kit';
import { CHECKPOINT_MAX_BYTES, type PlaygroundCheckpoint } from '@plexus/protocol';
import { type ControlRpc, ControlRpcError } from '../control/control-rpc.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { PlaygroundHost } from '../playground/playground-host.ts';
import { type CheckpointOutcome, type Room, stateRevision } from '../playground/room.ts';
import { buildCheckpoint } from './checkpoint-state.ts';

export interface CheckpointerOptions {
  host: PlaygroundHost;
  rpc: ControlRpc;
  serverId: string;
  intervalMs: number;
  logger: Logger;
  metrics: ServerMetrics;
  /** The server's monotonic clock, ms (when a checkpoint was accepted). */
  now: () => number;
  /** A write was refused as stale: another server holds the playground now. */
  onStale: (room: Room) => void;
}

/** A write that gets no answer within this long counts as failed (the next one has a higher version). */
const WRITE_TIMEOUT_MS = 5_000;
/** A room whose checkpoint is too large warns at most this often. */
const WARN_PERIOD_MS = 60_000;

/**
 * Writes every hosted playground's checkpoint (`checkpoints.write`, fenced by its epoch, with an
 * increasing version) each interval, if anything changed since the last accepted one. Runs on its
 * own timer between ticks, one room at a time, at most one write in flight per room; while no
 * balancer is up nothing is built, and the latest state goes out as soon as a link returns.
 */
export class Checkpointer {
  private readonly options: CheckpointerOptions;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly warnedAt = new WeakMap<Room, number>();
  private offAvailable: (() => void) | null = null;

  constructor(options: CheckpointerOptions) {
    this.options = options;
  }

  start(): void {
    this.timer = setInterval(() => void this.round(), this.options.intervalMs);
    this.offAvailable = this.options.rpc.onAvailable(() => void this.round());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.offAvailable?.();
    this.offAvailable = null;
  }

  /** One pass over the live rooms (skipped when the previous pass is still going). */
  async round(): Promise<void> {
    if (this.running || !this.options.rpc.available) return;
    this.running = true;
    try {
      for (const room of this.options.host.hostedRooms()) {
        if (room.state !== 'live' || room.checkpoint.writing) continue;
        if (this.write(room)) await yieldToTicks(); // let ticks and frames run between rooms
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * The final checkpoint of a frozen room (drain): waits for the write in flight, then writes what
   * changed since. Resolves with the outcome of the last write (`unchanged` when none was needed).
   */
  async final(room: Room): Promise<CheckpointOutcome> {
    const previous = room.checkpoint.writing ? await room.checkpoint.writing : 'unchanged';
    if (previous === 'stale' || room.state === 'gone') return 'stale';
    if (!this.options.rpc.available) return 'failed';
    const outcome = await (this.write(room) ?? Promise.resolve(null));
    if (outcome) return outcome;
    // Nothing changed since the last accepted write; a failed previous write still needs a retry.
    return room.checkpoint.acceptedRevision === stateRevision(room) ? 'unchanged' : 'failed';
  }

  /**
   * The last checkpoint of a room about to be removed (idle): its state is taken now, sent after any
   * write in flight.
   */
  retire(room: Room): void {
    if (!this.dirty(room) || room.checkpoint.epoch === 0) return;
    const state = buildCheckpoint(room, room.logic.saveState());
    const before = room.checkpoint.writing ?? Promise.resolve('unchanged');
    void before.then((outcome) => {
      if (outcome !== 'stale') void this.send(room, state, stateRevision(room), undefined);
    });
  }

  private dirty(room: Room, logicJson?: string): boolean {
    const cp = room.checkpoint;
    return (
      cp.acceptedRevision !== stateRevision(room) ||
      (logicJson !== undefined && logicJson !== cp.acceptedLogic)
    );
  }

  /** Starts a write if the room changed; the write's promise, or null when there was nothing to do. */
  private write(room: Room): Promise<CheckpointOutcome> | null {
    if (room.checkpoint.epoch === 0 || room.checkpoint.writing) return room.checkpoint.writing;
    const logicState = room.logic.saveState();
    const logicJson = room.logic.hasSaveState ? JSON.stringify(logicState) : undefined;
    if (!this.dirty(room, logicJson)) return null;
    const state = buildCheckpoint(room, logicState);
    const writing = this.send(room, state, stateRevision(room), logicJson).finally(() => {
      if (room.checkpoint.writing === writing) room.checkpoint.writing = null;
    });
    room.checkpoint.writing = writing;
    return writing;
  }

  private async send(
    room: Room,
    state: PlaygroundCheckpoint,
    revision: number,
    logicJson: string | undefined,
  ): Promise<CheckpointOutcome> {
    const { rpc, serverId, metrics, logger } = this.options;
    const cp = room.checkpoint;
    const playgroundId = room.playground.id;
    const version = ++cp.version;
    try {
      await rpc.call(
        'checkpoints.write',
        { serverId, playgroundId, epoch: cp.epoch, version, state },
        // The state is most of the params; a little room for the envelope around it.
        { timeoutMs: WRITE_TIMEOUT_MS, maxParamsBytes: CHECKPOINT_MAX_BYTES + 1024 },
      );
    } catch (err) {
      if (err instanceof ControlRpcError && err.is('CHECKPOINT_STALE')) {
        metrics.checkpoints.inc({ result: 'stale' });
        logger.warn(
          { playgroundId, epoch: cp.epoch, version },
          'checkpoint refused as stale: the playground moved',
        );
        this.options.onStale(room);
        return 'stale';
      }
      metrics.checkpoints.inc({ result: 'failed' });
      metrics.controlRpcErrors.inc({ method: 'checkpoints.write' });
      this.warn(room, err as Error, version);
      return 'failed';
    }
    cp.acceptedRevision = Math.max(cp.acceptedRevision, revision);
    cp.savedAtMs = this.options.now();
    if (logicJson !== undefined) cp.acceptedLogic = logicJson;
    metrics.checkpoints.inc({ result: 'written' });
    return 'written';
  }

  private warn(room: Room, err: Error, version: number): void {
    const now = Date.now();
    const last = this.warnedAt.get(room);
    if (last !== undefined && now - last < WARN_PERIOD_MS) return;
    this.warnedAt.set(room, now);
    this.options.logger.warn(
      { playgroundId: room.playground.id, version, err: err.message },
      'checkpoint not written (retried at the next interval)',
    );
  }
}
