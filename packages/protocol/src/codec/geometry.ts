import type { Quat, Vec3 } from '../types.ts';
import type { ByteReader } from './byte-reader.ts';
import type { ByteWriter } from './byte-writer.ts';

/** `vec3`: three f32 (docs/protocol.md §2, "Field types"). */
export function writeVec3(w: ByteWriter, v: Vec3): ByteWriter {
  return w.f32(v.x).f32(v.y).f32(v.z);
}

/** `quat`: four f32, x y z w. */
export function writeQuat(w: ByteWriter, q: Quat): ByteWriter {
  return w.f32(q.x).f32(q.y).f32(q.z).f32(q.w);
}

export function readVec3(r: ByteReader): Vec3 {
  return { x: r.f32(), y: r.f32(), z: r.f32() };
}

export function readQuat(r: ByteReader): Quat {
  return { x: r.f32(), y: r.f32(), z: r.f32(), w: r.f32() };
}
