import type { Quat, Vec3 } from '@plexus/protocol';

/** The world box every position must lie in (metres, y up). */
export const WORLD_BOUNDS = {
  maxAbsXZ: 10_000,
  minY: -1_000,
  maxY: 10_000,
} as const;

/** A rotation quaternion's length must be within this range before it is normalised. */
export const ROTATION_LENGTH = { min: 0.5, max: 1.5 } as const;

/**
 * Movement allowance kept per entity: it refills at `maxSpeedMps` and holds at most
 * `maxSpeedMps × SPEED_SLACK_MS` metres, so jittery delivery (moves arriving bunched) is absorbed
 * but a sustained speed above the maximum is not.
 */
export const SPEED_SLACK_MS = 500;

export interface MotionState {
  /** The last accepted position: the state's own object, updated in place. */
  readonly position: Vec3;
  atMs: number;
  /** Metres the entity may still travel right now. */
  budgetM: number;
}

export type TransformVerdict =
  | { ok: true; position: Vec3; rotation: Quat }
  | { ok: false; reason: 'position' | 'rotation' | 'speed' };

export function positionInBounds(p: Vec3): boolean {
  return (
    Number.isFinite(p.x) &&
    Number.isFinite(p.y) &&
    Number.isFinite(p.z) &&
    Math.abs(p.x) <= WORLD_BOUNDS.maxAbsXZ &&
    Math.abs(p.z) <= WORLD_BOUNDS.maxAbsXZ &&
    p.y >= WORLD_BOUNDS.minY &&
    p.y <= WORLD_BOUNDS.maxY
  );
}

/** The unit quaternion of `q`, or null when `q` is not finite or its length is outside 0.5..1.5. */
export function normaliseRotation(q: Quat): Quat | null {
  if (!Number.isFinite(q.x) || !Number.isFinite(q.y) || !Number.isFinite(q.z) || !Number.isFinite(q.w)) {
    return null;
  }
  const len = Math.hypot(q.x, q.y, q.z, q.w);
  if (len < ROTATION_LENGTH.min || len > ROTATION_LENGTH.max) return null;
  return { x: q.x / len, y: q.y / len, z: q.z / len, w: q.w / len };
}

/** A fresh motion state at `position` with a full allowance. */
export function initialMotion(position: Vec3, nowMs: number, maxSpeedMps: number): MotionState {
  return {
    position: { x: position.x, y: position.y, z: position.z },
    atMs: nowMs,
    budgetM: (maxSpeedMps * SPEED_SLACK_MS) / 1000,
  };
}

/**
 * Validates a requested transform against the world bounds, the rotation rules and the speed limit
 * measured from the last accepted position. On success `motion` is advanced (the caller keeps it);
 * on failure it is left as it was.
 */
export function checkTransform(
  position: Vec3,
  rotation: Quat,
  motion: MotionState,
  nowMs: number,
  maxSpeedMps: number,
): TransformVerdict {
  if (!positionInBounds(position)) return { ok: false, reason: 'position' };
  const unit = normaliseRotation(rotation);
  if (!unit) return { ok: false, reason: 'rotation' };
  const elapsedMs = Math.max(0, nowMs - motion.atMs);
  const capM = (maxSpeedMps * SPEED_SLACK_MS) / 1000;
  const budget = Math.min(capM, motion.budgetM + (maxSpeedMps * elapsedMs) / 1000);
  const distance = Math.hypot(
    position.x - motion.position.x,
    position.y - motion.position.y,
    position.z - motion.position.z,
  );
  if (distance > budget) return { ok: false, reason: 'speed' };
  // Copied, not kept: a MOVE's position lives in a frame the connection reuses for the next one.
  const last = motion.position;
  last.x = position.x;
  last.y = position.y;
  last.z = position.z;
  motion.atMs = nowMs;
  motion.budgetM = budget - distance;
  return { ok: true, position, rotation: unit };
}
