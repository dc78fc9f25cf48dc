import type { Quat, Vec3 } from '../types.ts';

/**
 * How STATE quantises what it carries (docs/protocol.md §4, "STATE"): positions to the
 * millimetre, rotations as 32-bit "smallest three", turns about +y as a 16-bit yaw (12 bits in a
 * version-6 packed motion).
 */

/** Positions travel as integer millimetres: the quantisation error is at most 0.5 mm per axis. */
export const POSITION_UNITS_PER_M = 1000;
/** Bits per component of a packed rotation (smallest three). */
export const ROTATION_COMPONENT_BITS = 10;
/** Largest quantised magnitude of a rotation component: values −511…511 map to ±1/√2. */
const ROT_MAX = 511;
const SQRT2 = Math.SQRT2;
/** Steps of a full turn in a YAW field (u16): 0.0055° each. */
export const YAW_STEPS = 65536;
/**
 * Steps of a full turn in a packed motion's yaw (12 bits): 0.088° each, below what a viewer can
 * tell apart on an avatar's facing, and what lets offsets and yaw share five bytes.
 */
export const MOTION_YAW_STEPS = 4096;
/**
 * Largest |x| and |z| of a rotation sent as a YAW: far below the 0.002 error of a packed rotation,
 * so a yaw loses nothing the smallest-three form would keep.
 */
const YAW_TOLERANCE = 1e-4;

/** A coordinate in metres → integer millimetres (error ≤ 0.5 mm). */
export function quantizeCoord(metres: number): number {
  return Math.round(metres * POSITION_UNITS_PER_M);
}

/** Integer millimetres → metres, as a decoder sees it. */
export function dequantizeCoord(units: number): number {
  return units / POSITION_UNITS_PER_M;
}

/** A position as the wire carries it (each axis rounded to the millimetre). */
export function quantizePosition(p: Vec3): Vec3 {
  return {
    x: dequantizeCoord(quantizeCoord(p.x)),
    y: dequantizeCoord(quantizeCoord(p.y)),
    z: dequantizeCoord(quantizeCoord(p.z)),
  };
}

/**
 * Packs a unit quaternion into 32 bits, "smallest three": bits 31–30 the index (x 0, y 1, z 2,
 * w 3) of the component with the largest magnitude, which is made positive (q and −q are the same
 * rotation) and left out; bits 29–20, 19–10, 9–0 the other three in index order, each
 * `round(c × √2 × 511) + 511` (c ∈ [−1/√2, 1/√2]). Zero components and the identity are exact.
 */
export function packRotation(q: Quat): number {
  const { x, y, z, w } = q;
  const len = Math.sqrt(x * x + y * y + z * z + w * w) || 1;
  let largest = 3;
  let max = Math.abs(w);
  if (Math.abs(x) > max) {
    largest = 0;
    max = Math.abs(x);
  }
  if (Math.abs(y) > max) {
    largest = 1;
    max = Math.abs(y);
  }
  if (Math.abs(z) > max) largest = 2;
  const sign = (largest === 0 ? x : largest === 1 ? y : largest === 2 ? z : w) < 0 ? -len : len;
  let packed = 0;
  // No array on this hot path (one call per rotation update per tick).
  for (let i = 0; i < 4; i++) {
    if (i === largest) continue;
    const v = (i === 0 ? x : i === 1 ? y : i === 2 ? z : w) / sign;
    let qv = Math.round(v * SQRT2 * ROT_MAX);
    if (qv > ROT_MAX) qv = ROT_MAX;
    else if (qv < -ROT_MAX) qv = -ROT_MAX;
    packed = packed * 1024 + (qv + ROT_MAX);
  }
  return largest * 2 ** 30 + packed;
}

/** The inverse of {@link packRotation}: a unit quaternion (the largest component rebuilt from the others). */
export function unpackRotation(packed: number): Quat {
  const largest = Math.floor(packed / 2 ** 30) & 3;
  const c = [0, 0, 0, 0];
  let rest = packed % 2 ** 30;
  let sum = 0;
  for (let i = 3; i >= 0; i--) {
    if (i === largest) continue;
    const v = ((rest % 1024) - ROT_MAX) / (SQRT2 * ROT_MAX);
    rest = Math.floor(rest / 1024);
    c[i] = v;
    sum += v * v;
  }
  c[largest] = sum < 1 ? Math.sqrt(1 - sum) : 0;
  return { x: c[0] as number, y: c[1] as number, z: c[2] as number, w: c[3] as number };
}

/** A rotation as the wire carries it. */
export function quantizeRotation(q: Quat): Quat {
  return unpackRotation(packRotation(q));
}

/** True when `q` is a turn about +y alone (x and z nil): version 4 sends it as a YAW. */
export function isYaw(q: Quat): boolean {
  return Math.abs(q.x) < YAW_TOLERANCE && Math.abs(q.z) < YAW_TOLERANCE;
}

/** The angle of a turn about +y in `steps` per turn: `round(angle / 2π × steps) mod steps`. */
export function packYaw(q: Quat, steps: number = YAW_STEPS): number {
  // q and −q give angles 2π apart: the same step once taken mod `steps`.
  const v = Math.round(((2 * Math.atan2(q.y, q.w)) / (2 * Math.PI)) * steps);
  return ((v % steps) + steps) % steps;
}

/** The inverse of {@link packYaw}: (0, sin(a/2), 0, cos(a/2)) with a = v × 2π / steps. */
export function unpackYaw(v: number, steps: number = YAW_STEPS): Quat {
  const half = (v / steps) * Math.PI;
  return { x: 0, y: Math.sin(half), z: 0, w: Math.cos(half) };
}
