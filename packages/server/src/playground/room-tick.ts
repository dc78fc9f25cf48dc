import type { ServerMetrics } from '../metrics.ts';
import type { ReplicationStats } from '../replication/replication-stats.ts';
import { sendTick } from '../replication/send-tick.ts';
import type { Member } from './member.ts';
import type { Room } from './room.ts';

export interface RoomTickOptions {
  maxBufferedBytes: number;
  slowConsumerGraceMs: number;
  metrics: ServerMetrics;
  stats?: ReplicationStats | undefined;
}

/**
 * How long a calm room's ticks may leave its members alone. Their buffers can still grow between
 * ticks (events, RESULTs): a slow consumer is noticed within this much of its grace.
 */
const CALM_RECHECK_MS = 1000;

/**
 * One tick of a room with members (docs/architecture.md, "The walk of one avatar move"): its members'
 * queued moves land, the type's onTick runs, the replicator builds the delta, every member gets its
 * frame.
 *
 * A calm room — no member sent a frame, joined or left since a tick that left every member with
 * nothing owed — has no queued move to land; and when the replicator then finds nothing changed, no
 * member has anything to get, so the tick does not visit them (1,000 idle clients: two walks over
 * the members 20 times a second were the idle server's first frame in perf, docs/benchmarks.md).
 * Once a second the walk happens anyway, to notice buffers grown since.
 */
export function tickRoom(
  room: Room,
  tick: number,
  now: number,
  dtMs: number,
  options: RoomTickOptions,
): void {
  const { playground, calm } = room;
  const still =
    calm.settled &&
    calm.inputSerial === room.inputSerial &&
    calm.metaRevision === room.metaRevision &&
    now - calm.atMs < CALM_RECHECK_MS;
  if (!still) {
    for (const member of room.members.values()) if (member.moves.size > 0) takeMoves(room, member);
  }
  // The playground type's tick sees this tick's moves; its changes go out in this tick's delta.
  // A frozen (draining) playground changes no more: its final checkpoint is what moves.
  if (room.state === 'live') room.logic.tick(tick, dtMs);
  room.replicator.update(tick);
  if (still && room.replicator.quiet) return;
  const sent = sendTick(playground.id, room.members.values(), room.replicator, now, options);
  if (sent.skips > 0) options.metrics.backpressureSkips.inc(sent.skips);
  options.stats?.add(sent.bytes, sent.skips);
  calm.settled = sent.settled;
  calm.inputSerial = room.inputSerial;
  calm.metaRevision = room.metaRevision;
  calm.atMs = now;
}

/**
 * Applies a member's validated moves to the entities it still owns and empties its queue; a frozen
 * (draining) room drops them: nothing in it changes.
 */
export function takeMoves(room: Room, member: Member): void {
  if (room.state === 'live') {
    const { playground } = room;
    const { moves } = member;
    for (let i = 0; i < moves.size; i++) {
      const move = moves.at(i);
      const e = playground.get(move.entityId);
      if (e && e.owner === member.clientId) {
        playground.setTransform(move.entityId, move.position, move.rotation);
        member.moveApplied(move.seq);
      } else if (move.seq !== undefined) {
        member.moveRefused(move.entityId, move.seq, 'PROTOCOL_NOT_OWNER');
      }
    }
  }
  member.moves.clear();
}
