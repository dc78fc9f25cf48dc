import type { Quat, Vec3 } from '@plexus/protocol';

/** A position and rotation. */
export interface Transform {
  position: Vec3;
  rotation: Quat;
}

interface Sample {
  timeMs: number;
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
  const dot = a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
  const s = dot < 0 ? -1 : 1;
  const x = a.x + (s * b.x - a.x) * t;
  const y = a.y + (s * b.y - a.y) * t;
  const z = a.z + (s * b.z - a.z) * t;
  const w = a.w + (s * b.w - a.w) * t;
  const len = Math.hypot(x, y, z, w);
  if (len === 0) return { x: b.x, y: b.y, z: b.z, w: b.w };
  return { x: x / len, y: y / len, z: z / len, w: w / len };
}

/**
 * A bounded, time-ordered buffer of transforms of one entity, sampled at any time in between by
 * interpolation (clamped to the first/last sample outside the buffered range). A ring of sample
 * objects that are overwritten in place: an observer records every remote entity at every tick
 * (thousands of samples a second in a crowd), and this allocates nothing once the ring is full.
 */
export class TransformBuffer {
  private readonly ring: Sample[] = [];
  /** Index in `ring` of the oldest sample. */
  private first = 0;
  private count = 0;
  private readonly capacity: number;

  constructor(capacity = 32) {
    if (capacity < 2) throw new RangeError('TransformBuffer capacity must be at least 2');
    this.capacity = capacity;
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
    const last = this.count > 0 ? this.at(this.count - 1) : undefined;
    if (last) {
      if (timeMs < last.timeMs) return;
      if (timeMs === last.timeMs) {
        set(last, timeMs, position, rotation);
        return;
      }
      if (holdGapMs !== undefined && timeMs - last.timeMs > holdGapMs) {
        set(this.append(), timeMs - holdGapMs, last.position, last.rotation);
      }
    }
    set(this.append(), timeMs, position, rotation);
  }

  /** The interpolated transform at `timeMs`; undefined when the buffer is empty. */
  sample(timeMs: number): Transform | undefined {
    if (this.count === 0) return undefined;
    const first = this.at(0);
    const last = this.at(this.count - 1);
    if (timeMs <= first.timeMs) return copy(first);
    if (timeMs >= last.timeMs) return copy(last);
    // Few samples and recent times: scan back from the newest.
    for (let i = this.count - 1; i > 0; i--) {
      const a = this.at(i - 1);
      const b = this.at(i);
      if (timeMs >= a.timeMs) {
        const t = (timeMs - a.timeMs) / (b.timeMs - a.timeMs);
        return {
          position: lerpVec3(a.position, b.position, t),
          rotation: nlerpQuat(a.rotation, b.rotation, t),
        };
      }
    }
    return copy(first);
  }

  clear(): void {
    this.first = 0;
    this.count = 0;
  }

  /** The `i`-th sample, oldest first (0 ≤ i < count). */
  private at(i: number): Sample {
    return this.ring[(this.first + i) % this.capacity] as Sample;
  }

  /** The slot of a new newest sample: a fresh one until the ring is full, then the oldest. */
  private append(): Sample {
    if (this.count < this.capacity) {
      const index = (this.first + this.count) % this.capacity;
      this.count++;
      let slot = this.ring[index];
      if (!slot) {
        slot = { timeMs: 0, position: { x: 0, y: 0, z: 0 }, rotation: { x: 0, y: 0, z: 0, w: 1 } };
        this.ring[index] = slot;
      }
      return slot;
    }
    const slot = this.ring[this.first] as Sample;
    this.first = (this.first + 1) % this.capacity;
    return slot;
  }
}

/** Copies a transform into a sample (values, not references: the caller's objects change later). */
function set(s: Sample, timeMs: number, position: Vec3, rotation: Quat): void {
  s.timeMs = timeMs;
  s.position.x = position.x;
  s.position.y = position.y;
  s.position.z = position.z;
  s.rotation.x = rotation.x;
  s.rotation.y = rotation.y;
  s.rotation.z = rotation.z;
  s.rotation.w = rotation.w;
}

function copy(s: Sample): Transform {
  return { position: { ...s.position }, rotation: { ...s.rotation } };
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
