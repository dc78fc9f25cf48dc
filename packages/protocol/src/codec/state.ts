import { ServerOp, StateFlags, UpdateFields } from '../opcodes.ts';
import type { EntityState, Props, Quat, Vec3 } from '../types.ts';
import { COMPACT_UPDATES_VERSION, PACKED_HEADS_VERSION, PACKED_MOTION_VERSION } from '../version.ts';
import { type ByteReader, DecodeError } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { parseJsonObject } from './json.ts';
import { WireLimits } from './limits.ts';
import {
  dequantizeCoord,
  isYaw,
  MOTION_YAW_STEPS,
  POSITION_UNITS_PER_M,
  packRotation,
  packYaw,
  quantizeCoord,
  unpackRotation,
  unpackYaw,
} from './quantize.ts';

export * from './quantize.ts';

/**
 * The STATE frame of protocol versions 2–6 (docs/protocol.md §4, "STATE"):
 *
 * ```
 * u8 0x82, varuint tick, u8 flags,
 * varuint spawnCount, SPAWN…          (per client: entities entering its interest)
 * varuint chunkCount, CHUNK…          (shared: one per grid cell with changes)
 * varuint removeCount, varuint id…    (per client: entities leaving its interest)
 * ```
 *
 * A CHUNK carries the updates of one grid cell with positions relative to the cell's origin, so
 * the server encodes each cell once per tick and copies the same bytes into every frame of every
 * client that sees the cell. Decoding needs no state: positions and rotations come out as floats.
 */

/** A changed entity in a STATE frame: only the fields present changed. */
export interface EntityUpdate {
  id: number;
  position?: Vec3;
  /**
   * Version 4 (decoded only): the new x and z of the position, whose y did not change; the y is
   * the one the client holds. Never together with `position`.
   */
  positionXZ?: { x: number; z: number };
  rotation?: Quat;
  props?: Props;
  /** New owner's client id (0 = server) when authority changed. */
  owner?: number;
}

export interface StateFrame {
  tick: number;
  keyframe: boolean;
  spawns: EntityState[];
  updates: EntityUpdate[];
  removes: number[];
}

const ALL_FIELDS =
  UpdateFields.POSITION |
  UpdateFields.ROTATION |
  UpdateFields.PROPS |
  UpdateFields.OWNER |
  UpdateFields.YAW |
  UpdateFields.POSITION_XZ;

/**
 * How a CHUNK's updates are laid out (docs/protocol.md §4, "STATE"): versions 2–3 send every
 * position whole and every rotation packed; version 4 adds the compact fields (YAW, POSITION_XZ);
 * version 5 also starts each update with a packed head (its id delta and, for the usual
 * combinations, its fields in one varuint); version 6 also packs a walking, turning update's
 * offsets and yaw into five bytes. A frame's chunks all have its session's layout.
 */
export const ChunkLayout = { WHOLE: 0, COMPACT: 1, PACKED: 2, PACKED_MOTION: 3 } as const;
export type ChunkLayout = (typeof ChunkLayout)[keyof typeof ChunkLayout];
/** How many layouts there are (they number 0…CHUNK_LAYOUTS − 1). */
export const CHUNK_LAYOUTS = 4;

/** The layout of a session of `protocolVersion`. */
export function chunkLayoutFor(protocolVersion: number): ChunkLayout {
  if (protocolVersion >= PACKED_MOTION_VERSION) return ChunkLayout.PACKED_MOTION;
  if (protocolVersion >= PACKED_HEADS_VERSION) return ChunkLayout.PACKED;
  return protocolVersion >= COMPACT_UPDATES_VERSION ? ChunkLayout.COMPACT : ChunkLayout.WHOLE;
}

/**
 * The fields a packed head's low two bits stand for; 0: a fields byte follows. These are what a
 * moving avatar sends: walking and turning, walking straight, turning in place.
 */
const HEAD_FIELDS = [
  0,
  UpdateFields.POSITION_XZ | UpdateFields.YAW,
  UpdateFields.POSITION_XZ,
  UpdateFields.YAW,
] as const;
/** The largest packed head: an id delta below 2^32, times 4, plus 3. */
const HEAD_MAX = 2 ** 34 - 1;
/** The head form that, in the packed-motion layout (version 6), is followed by a packed motion. */
const MOTION_FORM = 1;
/**
 * A packed motion's offsets are 14-bit, stored + 8192: −8192…8191 mm, which holds every offset
 * within a cell of up to 16 m (its origin is the cell's centre). Farther offsets take form 0.
 */
const MOTION_BIAS = 8192;

function motionFits(dx: number, dz: number): boolean {
  return dx >= -MOTION_BIAS && dx < MOTION_BIAS && dz >= -MOTION_BIAS && dz < MOTION_BIAS;
}

/**
 * A packed motion: the 40-bit little-endian integer `(dx + 8192) | (dz + 8192) << 14 | yaw << 28`,
 * yaw in {@link MOTION_YAW_STEPS} steps per turn.
 */
function writeMotion(w: ByteWriter, dx: number, dz: number, yaw: number): void {
  const x = dx + MOTION_BIAS;
  const z = dz + MOTION_BIAS;
  w.u8(x & 0xff)
    .u8((x >>> 8) | ((z & 0x03) << 6))
    .u8((z >>> 2) & 0xff)
    .u8((z >>> 10) | ((yaw & 0x0f) << 4))
    .u8(yaw >>> 4);
}

// ---------------------------------------------------------------- writers

function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function unzigzag(u: number): number {
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** A signed integer |v| < 2³¹ as a zigzag varuint. */
export function writeVarint(w: ByteWriter, v: number): void {
  w.varuint(zigzag(v));
}

function writeU32(w: ByteWriter, v: number): void {
  w.u8(v & 0xff)
    .u8((v >>> 8) & 0xff)
    .u8((v >>> 16) & 0xff)
    .u8((v >>> 24) & 0xff);
}

/**
 * The frame header: opcode, tick, flags (PACKED_HEADS when its chunks have the version-5 or -6
 * layout, PACKED_MOTION too for version 6).
 */
export function writeStateHeader(
  w: ByteWriter,
  tick: number,
  keyframe: boolean,
  layout: ChunkLayout = ChunkLayout.WHOLE,
): void {
  w.u8(ServerOp.STATE)
    .varuint(tick)
    .u8(
      (keyframe ? StateFlags.KEYFRAME : 0) |
        (layout >= ChunkLayout.PACKED ? StateFlags.PACKED_HEADS : 0) |
        (layout === ChunkLayout.PACKED_MOTION ? StateFlags.PACKED_MOTION : 0),
    );
}

/** One SPAWN record: the entity's whole state, position in absolute millimetres. */
export function writeSpawn(w: ByteWriter, e: EntityState, propsJson: string = JSON.stringify(e.props)): void {
  w.varuint(e.id).varuint(e.owner).string(e.kind);
  writeVarint(w, quantizeCoord(e.position.x));
  writeVarint(w, quantizeCoord(e.position.y));
  writeVarint(w, quantizeCoord(e.position.z));
  writeU32(w, packRotation(e.rotation));
  w.string(propsJson);
}

/** What a chunk of the compact layouts (versions 4 and 5) may leave out. */
export interface CompactChunk {
  /**
   * True when every client that gets the chunk already holds the entity's current y: its
   * position may then travel as x and z alone (POSITION_XZ).
   */
  keepsY(u: EntityUpdate): boolean;
}

/**
 * One CHUNK: `varint originXm, varint originZm, varuint count`, then per update `varint idDelta`
 * (id − previous id in the chunk, the first relative to 0), `u8 fields`, and the fields present:
 * position as three varints of millimetres relative to (originXm × 1000, 0, originZm × 1000),
 * rotation as a little-endian u32 ({@link packRotation}), props as JSON, owner as a varuint.
 * In the compact layouts (versions 4 and 5) a rotation about +y alone goes as a u16 YAW, and a
 * position whose y `compact` says the recipients hold as its x and z offsets (POSITION_XZ). In the
 * packed layouts (versions 5 and 6) the id delta and fields are one varuint head,
 * `idDelta × 4 + form`, with no fields byte when `form` (1–3) names them ({@link HEAD_FIELDS}). In
 * the packed-motion layout (version 6) form 1 is followed by a packed motion ({@link writeMotion})
 * instead of its two offsets and u16 yaw; an update whose offsets do not fit takes form 0.
 * Updates are written in the order given: ascending ids make the smallest deltas, and the packed
 * layouts require them (their deltas are unsigned).
 */
export function writeChunk(
  w: ByteWriter,
  originXm: number,
  originZm: number,
  updates: readonly EntityUpdate[],
  layout: ChunkLayout = ChunkLayout.WHOLE,
  compact?: CompactChunk,
): void {
  writeVarint(w, originXm);
  writeVarint(w, originZm);
  w.varuint(updates.length);
  let prev = 0;
  const ox = originXm * POSITION_UNITS_PER_M;
  const oz = originZm * POSITION_UNITS_PER_M;
  const compactFields = layout !== ChunkLayout.WHOLE;
  const packedHeads = layout >= ChunkLayout.PACKED;
  for (const u of updates) {
    // Quantised once: the packed motion and, when its offsets do not fit, form 0 both use them.
    const dx = u.position ? quantizeCoord(u.position.x) - ox : 0;
    const dz = u.position ? quantizeCoord(u.position.z) - oz : 0;
    const xz = compactFields && u.position !== undefined && compact?.keepsY(u) === true;
    const yaw = compactFields && u.rotation !== undefined && isYaw(u.rotation);
    const mask =
      (u.position ? (xz ? UpdateFields.POSITION_XZ : UpdateFields.POSITION) : 0) |
      (u.rotation ? (yaw ? UpdateFields.YAW : UpdateFields.ROTATION) : 0) |
      (u.props ? UpdateFields.PROPS : 0) |
      (u.owner !== undefined ? UpdateFields.OWNER : 0);
    if (packedHeads) {
      // The form naming the fields, or 0 (a fields byte follows); a mask of 0 has the fields byte too.
      let form = Math.max(0, HEAD_FIELDS.indexOf(mask as (typeof HEAD_FIELDS)[number]));
      if (form === MOTION_FORM && layout === ChunkLayout.PACKED_MOTION) {
        if (motionFits(dx, dz)) {
          w.varuint((u.id - prev) * 4 + form, HEAD_MAX);
          writeMotion(w, dx, dz, packYaw(u.rotation as Quat, MOTION_YAW_STEPS));
          prev = u.id;
          continue;
        }
        form = 0;
      }
      w.varuint((u.id - prev) * 4 + form, HEAD_MAX);
      if (form === 0) w.u8(mask);
    } else {
      writeVarint(w, u.id - prev);
      w.u8(mask);
    }
    prev = u.id;
    if (u.position) {
      writeVarint(w, dx);
      if (!xz) writeVarint(w, quantizeCoord(u.position.y));
      writeVarint(w, dz);
    }
    if (u.rotation) {
      if (yaw) {
        const v = packYaw(u.rotation);
        w.u8(v & 0xff).u8(v >>> 8);
      } else writeU32(w, packRotation(u.rotation));
    }
    if (u.props) w.string(JSON.stringify(u.props));
    if (u.owner !== undefined) w.varuint(u.owner);
  }
}

/** The removes section: count, then the ids. */
export function writeRemoves(w: ByteWriter, removes: readonly number[]): void {
  w.varuint(removes.length);
  for (const id of removes) w.varuint(id);
}

/**
 * Encodes a whole STATE frame for one client, the straightforward way: its spawns, its updates in
 * one chunk (origin at the first positioned update's whole metres; others still decode exactly),
 * its removes. The server assembles the same layout from shared per-cell chunks instead; both
 * decode to the same {@link StateFrame}. Pass a writer to reuse its buffer.
 */
export function encodeState(frame: StateFrame, w: ByteWriter = new ByteWriter(1024)): Uint8Array {
  w.reset();
  writeStateHeader(w, frame.tick, frame.keyframe);
  w.varuint(frame.spawns.length);
  for (const e of frame.spawns) writeSpawn(w, e);
  if (frame.updates.length === 0) {
    w.varuint(0);
  } else {
    const first = frame.updates.find((u) => u.position)?.position;
    w.varuint(1);
    writeChunk(w, first ? Math.floor(first.x) : 0, first ? Math.floor(first.z) : 0, frame.updates);
  }
  writeRemoves(w, frame.removes);
  return w.finish();
}

// ---------------------------------------------------------------- reader

function readVarint(r: ByteReader): number {
  return unzigzag(r.varuint());
}

function readU32(r: ByteReader): number {
  return r.u8() + r.u8() * 0x100 + r.u8() * 0x10000 + r.u8() * 0x1000000;
}

/** The update of a packed motion ({@link writeMotion}) of entity `id` in the chunk at (ox, oz) mm. */
function readMotion(r: ByteReader, id: number, ox: number, oz: number): EntityUpdate {
  const b0 = r.u8();
  const b1 = r.u8();
  const b2 = r.u8();
  const b3 = r.u8();
  const b4 = r.u8();
  const dx = (b0 | ((b1 & 0x3f) << 8)) - MOTION_BIAS;
  const dz = ((b1 >>> 6) | (b2 << 2) | ((b3 & 0x0f) << 10)) - MOTION_BIAS;
  return {
    id,
    positionXZ: { x: dequantizeCoord(ox + dx), z: dequantizeCoord(oz + dz) },
    rotation: unpackYaw((b3 >>> 4) | (b4 << 4), MOTION_YAW_STEPS),
  };
}

/** Reads a STATE payload (after the opcode); chunks are flattened into `updates` in wire order. */
export function readState(r: ByteReader): StateFrame {
  const tick = r.varuint();
  const flags = r.u8();
  const packed = (flags & StateFlags.PACKED_HEADS) !== 0;
  const motion = (flags & StateFlags.PACKED_MOTION) !== 0;
  if (motion && !packed) throw new DecodeError('PACKED_MOTION without PACKED_HEADS');
  const spawns: EntityState[] = [];
  for (let n = r.varuint(); n > 0; n--) {
    const id = r.varuint();
    const owner = r.varuint();
    const kind = r.string(WireLimits.kindBytes);
    const position = {
      x: dequantizeCoord(readVarint(r)),
      y: dequantizeCoord(readVarint(r)),
      z: dequantizeCoord(readVarint(r)),
    };
    const rotation = unpackRotation(readU32(r));
    spawns.push({
      id,
      owner,
      kind,
      position,
      rotation,
      props: parseJsonObject(r.string(WireLimits.propsBytes)),
    });
  }
  const updates: EntityUpdate[] = [];
  for (let chunks = r.varuint(); chunks > 0; chunks--) {
    const ox = readVarint(r) * POSITION_UNITS_PER_M;
    const oz = readVarint(r) * POSITION_UNITS_PER_M;
    let id = 0;
    for (let n = r.varuint(); n > 0; n--) {
      // A packed head's form names the fields (0: a fields byte follows); unpacked, the byte always does.
      let form = 0;
      if (packed) {
        const head = r.varuint(HEAD_MAX);
        form = head % 4;
        id += (head - form) / 4;
      } else id += readVarint(r);
      if (id < 0 || id > 0xffffffff) throw new DecodeError('entity id out of range');
      if (motion && form === MOTION_FORM) {
        updates.push(readMotion(r, id, ox, oz));
        continue;
      }
      const mask = form === 0 ? r.u8() : (HEAD_FIELDS[form] as number);
      const u: EntityUpdate = { id };
      if (mask & ~ALL_FIELDS) throw new DecodeError('unknown update field bits');
      if (mask & UpdateFields.POSITION && mask & UpdateFields.POSITION_XZ) {
        throw new DecodeError('POSITION and POSITION_XZ in one update');
      }
      if (mask & UpdateFields.ROTATION && mask & UpdateFields.YAW) {
        throw new DecodeError('ROTATION and YAW in one update');
      }
      if (mask & UpdateFields.POSITION) {
        u.position = {
          x: dequantizeCoord(ox + readVarint(r)),
          y: dequantizeCoord(readVarint(r)),
          z: dequantizeCoord(oz + readVarint(r)),
        };
      }
      if (mask & UpdateFields.POSITION_XZ) {
        u.positionXZ = { x: dequantizeCoord(ox + readVarint(r)), z: dequantizeCoord(oz + readVarint(r)) };
      }
      if (mask & UpdateFields.ROTATION) u.rotation = unpackRotation(readU32(r));
      if (mask & UpdateFields.YAW) u.rotation = unpackYaw(r.u8() + r.u8() * 0x100);
      if (mask & UpdateFields.PROPS) u.props = parseJsonObject(r.string(WireLimits.propsBytes));
      if (mask & UpdateFields.OWNER) u.owner = r.varuint();
      updates.push(u);
    }
  }
  const removes: number[] = [];
  for (let n = r.varuint(); n > 0; n--) removes.push(r.varuint());
  return { tick, keyframe: (flags & StateFlags.KEYFRAME) !== 0, spawns, updates, removes };
}
