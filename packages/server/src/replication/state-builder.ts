import { ByteWriter, encodeState } from '@plexus/protocol';
import type { Playground } from '../playground/playground.ts';

/**
 * Encodes a whole playground's STATE frames, without interest management, with one reused writer:
 * what every client would get if it saw everything. The server sends frames built by the
 * Replicator (replicator.ts); this stays for tests and tools that want the unfiltered view.
 */
export class StateBuilder {
  private readonly writer = new ByteWriter(16 * 1024);

  /** The delta of everything that changed since the previous call, or null when nothing did. */
  delta(playground: Playground, tick: number): Uint8Array | null {
    const frame = playground.takeDelta(tick);
    return frame ? encodeState(frame, this.writer) : null;
  }

  /** A keyframe: every entity as a spawn, with the keyframe flag. */
  keyframe(playground: Playground, tick: number): Uint8Array {
    return encodeState(playground.keyframe(tick), this.writer);
  }
}
