import { ByteWriter, encodeState } from '@plexus/protocol';
import type { Playground } from '../playground/playground.ts';

/**
 * Encodes STATE frames with one reused writer: a playground's delta is encoded once per tick and
 * the same bytes go to every client of the playground.
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
