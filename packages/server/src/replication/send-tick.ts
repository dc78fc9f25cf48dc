import type { ChunkLayout, ErrorName } from '@plexus/protocol';
import type { Replicator } from './replicator.ts';

/** What the tick needs of a room member (playground/member.ts implements it). */
export interface ReplicaClient {
  readonly clientId: number;
  avatarId: number;
  welcomed: boolean;
  needsKeyframe: boolean;
  stuckSince: number | null;
  readonly bufferedAmount: number;
  /** The layout of its STATE chunks: its protocol version's (protocol.md §4, "STATE"). */
  readonly chunkLayout: ChunkLayout;
  /** A STATE frame (the same bytes may go to many clients). */
  sendState(bytes: Uint8Array): void;
  sendWelcome(playgroundId: string, keyframe: Uint8Array): void;
  /**
   * A v3 session's MOVE_ACK, if a move was applied or refused since the last (protocol.md §5.10)
   * and none went out with this tick's STATE.
   */
  sendMoveAck(): void;
  refuse(name: ErrorName): void;
}

export interface SendTickOptions {
  maxBufferedBytes: number;
  slowConsumerGraceMs: number;
}

/** Counts of one playground's tick, added up by the caller. */
export interface SendTickResult {
  bytes: number;
  frames: number;
  skips: number;
  /** Every client is welcomed, owed no keyframe, not over the buffer limit, and got its MOVE_ACK. */
  settled: boolean;
}

/**
 * Sends one playground's tick: a client over `maxBufferedBytes` gets nothing (no frame is queued
 * for it anywhere) and is owed a keyframe, and is closed with SLOW_CONSUMER once stuck for longer
 * than the grace; a new client gets WELCOME + a keyframe of what it sees; a client owed a
 * keyframe gets one; every other client gets its delta, if anything concerns it.
 */
export function sendTick(
  playgroundId: string,
  members: Iterable<ReplicaClient>,
  replicator: Replicator,
  now: number,
  options: SendTickOptions,
): SendTickResult {
  const result: SendTickResult = { bytes: 0, frames: 0, skips: 0, settled: true };
  const quiet = replicator.quiet;
  let refused: ReplicaClient[] | null = null;
  for (const conn of members) {
    if (conn.bufferedAmount > options.maxBufferedBytes) {
      conn.stuckSince ??= now;
      if (now - conn.stuckSince > options.slowConsumerGraceMs) {
        // Refused after the loop: a refusal removes the member from the map we iterate.
        refused ??= [];
        refused.push(conn);
        continue;
      }
      result.skips++;
      conn.needsKeyframe = true;
      continue;
    }
    conn.stuckSince = null;
    // A quiet tick (nothing changed) owes frames only to new clients and those owed a keyframe.
    if (!quiet || !conn.welcomed || conn.needsKeyframe) {
      const frame = frameOf(conn, playgroundId, replicator);
      if (frame) {
        result.bytes += frame.length;
        result.frames++;
      }
    }
    // After the STATE that shows them, so a v3 client drops predictions the state already covers.
    conn.sendMoveAck();
  }
  if (refused) for (const conn of refused) conn.refuse('PROTOCOL_SLOW_CONSUMER');
  result.settled = result.skips === 0 && refused === null;
  return result;
}

/** Sends `conn` its frame of this tick (WELCOME + keyframe, a keyframe, or its delta); null if none. */
function frameOf(conn: ReplicaClient, playgroundId: string, replicator: Replicator): Uint8Array | null {
  if (!conn.welcomed) {
    const keyframe = replicator.frameFor(conn.clientId, conn.avatarId, true, conn.chunkLayout) as Uint8Array;
    conn.sendWelcome(playgroundId, keyframe);
    return keyframe;
  }
  if (conn.needsKeyframe) {
    const keyframe = replicator.frameFor(conn.clientId, conn.avatarId, true, conn.chunkLayout) as Uint8Array;
    conn.sendState(keyframe);
    conn.needsKeyframe = false;
    return keyframe;
  }
  const delta = replicator.frameFor(conn.clientId, conn.avatarId, false, conn.chunkLayout);
  if (delta) conn.sendState(delta);
  return delta;
}
