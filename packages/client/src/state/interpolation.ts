import type { Quat, Vec3 } from '@plexus/protocol';

/** A position and rotation. */
export interface Transform {
  position: Vec3;
  rotation: Quat;
}

/** Linear interpolation of two vectors (`t` in 0..1). */
export function lerpVec3(a: Vec3, b: Vec3, t: number): Vec3 {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t, z: a.z + (b.z - a.z) * t };
}

/**
 * Normalised linear interpolation of two unit quaternions along the shortest arc (`t` in 0..1).
 * For the small angles between two ticks it is indistinguishable from slerp and much cheaper.
 */
export function nlerpQuat(a: Quat, b: Quat, t: number): Quat {
  return nlerp(a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w, t);
}

function nlerp(
  ax: number,
  ay: number,
  az: number,
  aw: number,
  bx: number,
  by: number,
  bz: number,
  bw: number,
  t: number,
): Quat {
  const dot = ax * bx + ay * by + az * bz + aw * bw;
  const s = dot < 0 ? -1 : 1;
  const x = ax + (s * bx - ax) * t;
  const y = ay + (s * by - ay) * t;
  const z = az + (s * bz - az) * t;
  const w = aw + (s * bw - aw) * t;
  const len = Math.hypot(x, y, z, w);
  if (len === 0) return { x: bx, y: by, z: bz, w: bw };
  return { x: x / len, y: y / len, z: z / len, w: w / len };
}

/** Component `k` of the samples at `a` and `b` of a ring, interpolated at `t`. */
function lerpAt(ring: Float64Array, a: number, b: number, k: number, t: number): number {
  const from = ring[a + k] as number;
  return from + ((ring[b + k] as number) - from) * t;
}

/** Numbers per sample in a buffer's ring: time, position x y z, rotation x y z w. */
const STRIDE = 8;

/**
 * A bounded, time-ordered buffer of transforms of one entity, sampled at any time in between by
 * interpolation (clamped to the first/last sample outside the buffered range). The samples are a
 * ring of numbers in one Float64Array, overwritten in place: an observer records every remote
 * entity at every tick (16,000 samples a second for 800 avatars), and samples kept as objects
 * spread over the heap made each record a few cache misses; here it is one contiguous row.
 */
export class TransformBuffer {
  private readonly ring: Float64Array;
  /** Slot of the oldest sample. */
  private first = 0;
  private count = 0;
  private readonly capacity: number;

  constructor(capacity = 32) {
    if (capacity < 2) throw new RangeError('TransformBuffer capacity must be at least 2');
    this.capacity = capacity;
    this.ring = new Float64Array(capacity * STRIDE);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Records the transform at `timeMs`. A sample older than the newest is dropped; one at the same
   * time replaces it. When `holdGapMs` is given and the newest sample is older than that, the old
   * transform is repeated at `timeMs - holdGapMs` first: an entity that stood still and then moves
   * holds its place until the move instead of gliding over the whole pause.
   */
  push(timeMs: number, position: Vec3, rotation: Quat, holdGapMs?: number): void {
    const ring = this.ring;
    if (this.count > 0) {
      const last = this.offset(this.count - 1);
      const lastMs = ring[last] as number;
      if (timeMs < lastMs) return;
      if (timeMs === lastMs) {
        this.write(last, timeMs, position, rotation);
        return;
      }
      if (holdGapMs !== undefined && timeMs - lastMs > holdGapMs) {
        const held = this.append();
        // The ring is at least two samples long: the slot taken is never the newest one.
        ring.copyWithin(held, last, last + STRIDE);
        ring[held] = timeMs - holdGapMs;
      }
    }
    this.write(this.append(), timeMs, position, rotation);
  }

  /** The interpolated transform at `timeMs`; undefined when the buffer is empty. */
  sample(timeMs: number): Transform | undefined {
    if (this.count === 0) return undefined;
    const ring = this.ring;
    const first = this.offset(0);
    const last = this.offset(this.count - 1);
    if (timeMs <= (ring[first] as number)) return this.read(first);
    if (timeMs >= (ring[last] as number)) return this.read(last);
    // Few samples and recent times: scan back from the newest.
    for (let i = this.count - 1; i > 0; i--) {
      const a = this.offset(i - 1);
      const b = this.offset(i);
      const aMs = ring[a] as number;
      if (timeMs >= aMs) {
        const t = (timeMs - aMs) / ((ring[b] as number) - aMs);
        return {
          position: { x: lerpAt(ring, a, b, 1, t), y: lerpAt(ring, a, b, 2, t), z: lerpAt(ring, a, b, 3, t) },
          rotation: nlerp(
            ring[a + 4] as number,
            ring[a + 5] as number,
            ring[a + 6] as number,
            ring[a + 7] as number,
            ring[b + 4] as number,
            ring[b + 5] as number,
            ring[b + 6] as number,
            ring[b + 7] as number,
            t,
          ),
        };
      }
    }
    return this.read(first);
  }

  clear(): void {
    this.first = 0;
    this.count = 0;
  }

  /** Where the `i`-th sample (oldest first, 0 ≤ i < count) starts in the ring. */
  private offset(i: number): number {
    return ((this.first + i) % this.capacity) * STRIDE;
  }

  /** The start of a new newest sample: the next free slot, or the oldest once the ring is full. */
  private append(): number {
    if (this.count < this.capacity) {
      this.count++;
      return this.offset(this.count - 1);
    }
    const slot = this.first * STRIDE;
    this.first = (this.first + 1) % this.capacity;
    return slot;
  }

  /** Copies a transform into the sample at `at` (values: the caller's objects change later). */
  private write(at: number, timeMs: number, position: Vec3, rotation: Quat): void {
    const ring = this.ring;
    ring[at] = timeMs;
    ring[at + 1] = position.x;
    ring[at + 2] = position.y;
    ring[at + 3] = position.z;
    ring[at + 4] = rotation.x;
    ring[at + 5] = rotation.y;
    ring[at + 6] = rotation.z;
    ring[at + 7] = rotation.w;
  }

  private read(at: number): Transform {
    const r = this.ring;
    return {
      position: { x: r[at + 1] as number, y: r[at + 2] as number, z: r[at + 3] as number },
      rotation: {
        x: r[at + 4] as number,
        y: r[at + 5] as number,
        z: r[at + 6] as number,
        w: r[at + 7] as number,
      },
    };
  }
}

/**
 * Maps server ticks to local time so that samples are spaced evenly (by the tick interval) rather
 * than by their jittery arrival times. The offset follows the earliest arrivals (least delayed
 * frames) and drifts up slowly if the link gets slower; a jump of more than a second re-anchors it.
 */
export class TickClock {
  private readonly tickIntervalMs: number;
  private offsetMs: number | undefined;

  constructor(tickRateHz: number) {
    this.tickIntervalMs = 1000 / (tickRateHz > 0 ? tickRateHz : 20);
  }

  get intervalMs(): number {
    return this.tickIntervalMs;
  }

  /** Local time (same clock as `receivedAtMs`) that corresponds to `tick`. */
  timeOf(tick: number, receivedAtMs: number): number {
    const candidate = receivedAtMs - tick * this.tickIntervalMs;
    if (this.offsetMs === undefined || Math.abs(candidate - this.offsetMs) > 1000) {
      this.offsetMs = candidate;
    } else if (candidate < this.offsetMs) {
      this.offsetMs = candidate;
    } else {
      this.offsetMs += (candidate - this.offsetMs) * 0.01;
    }
    return tick * this.tickIntervalMs + this.offsetMs;
  }
}

/** Options of {@link Interpolator}. */
export interface InterpolatorOptions {
  /** How far in the past remote entities are drawn, ms (default 100 = two ticks at 20 Hz). */
  delayMs?: number;
  /** Samples kept per entity (default 32). */
  capacity?: number;
}

/** Transform buffers of every remote entity, sampled `delayMs` in the past. */
export class Interpolator {
  readonly delayMs: number;
  private readonly capacity: number;
  private readonly buffers = new Map<number, TransformBuffer>();

  constructor(options: InterpolatorOptions = {}) {
    this.delayMs = options.delayMs ?? 100;
    this.capacity = options.capacity ?? 32;
  }

  /** Records the transform of entity `id` at `timeMs` (see {@link TransformBuffer.push}). */
  record(id: number, timeMs: number, transform: Transform, holdGapMs?: number): void {
    let buffer = this.buffers.get(id);
    if (!buffer) {
      buffer = new TransformBuffer(this.capacity);
      this.buffers.set(id, buffer);
    }
    buffer.push(timeMs, transform.position, transform.rotation, holdGapMs);
  }

  /** The transform of `id` at `renderTimeMs - delayMs`; undefined when nothing is buffered. */
  sample(id: number, renderTimeMs: number): Transform | undefined {
    return this.buffers.get(id)?.sample(renderTimeMs - this.delayMs);
  }

  has(id: number): boolean {
    return this.buffers.has(id);
  }

  delete(id: number): void {
    this.buffers.delete(id);
  }

  clear(): void {
    this.buffers.clear();
  }
}
