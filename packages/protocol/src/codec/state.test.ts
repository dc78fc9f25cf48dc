import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerOp } from '../opcodes.ts';
import type { Quat } from '../types.ts';
import { DecodeError } from './byte-reader.ts';
import { ByteWriter } from './byte-writer.ts';
import { decodeServerFrame, type StateFrame } from './frames.ts';
import {
  ChunkLayout,
  type EntityUpdate,
  encodeState,
  isYaw,
  MOTION_YAW_STEPS,
  packRotation,
  packYaw,
  quantizePosition,
  quantizeRotation,
  unpackRotation,
  unpackYaw,
  writeChunk,
  writeRemoves,
  writeSpawn,
  writeStateHeader,
} from './state.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function decodeState(b: Uint8Array): StateFrame {
  const f = decodeServerFrame(b);
  assert.equal(f.op, ServerOp.STATE);
  const { op: _op, ...state } = f as { op: number } & StateFrame;
  return state;
}

let seed = 7;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

test('positions round-trip to the millimetre anywhere within the world bounds', () => {
  for (let i = 0; i < 20_000; i++) {
    const p = { x: (rand() * 2 - 1) * 10_000, y: -1_000 + rand() * 11_000, z: (rand() * 2 - 1) * 10_000 };
    const q = quantizePosition(p);
    for (const k of ['x', 'y', 'z'] as const)
      assert.ok(Math.abs(q[k] - p[k]) <= 0.0005 + 1e-9, `${k} ${p[k]}`);
    // Through the wire, from any chunk origin, the same value comes out.
    const w = new ByteWriter();
    writeChunk(w, Math.floor(rand() * 2000) - 1000, -3, [{ id: 1, position: p }]);
    const decoded = decodeState(Uint8Array.from([...bytes('82 01 00 00 01'), ...w.finish(), 0])).updates[0]
      ?.position;
    assert.deepEqual(decoded, q);
  }
});

test('smallest-three rotations: identity and zero components are exact, error ≤ 0.002 and 0.3°', () => {
  assert.deepEqual(quantizeRotation({ x: 0, y: 0, z: 0, w: 1 }), { x: 0, y: 0, z: 0, w: 1 });
  assert.equal(packRotation({ x: 0, y: 0, z: 0, w: 1 }), 0xdff7fdff);
  const yaw = quantizeRotation({ x: 0, y: Math.sin(0.3), z: 0, w: Math.cos(0.3) });
  assert.equal(yaw.x, 0);
  assert.equal(yaw.z, 0);
  let maxComponent = 0;
  let maxAngleDeg = 0;
  for (let i = 0; i < 50_000; i++) {
    const raw = [rand() * 2 - 1, rand() * 2 - 1, rand() * 2 - 1, rand() * 2 - 1];
    const len = Math.hypot(...raw);
    const [a = 0, b = 0, c = 0, d = 1] = raw.map((v) => v / len);
    const q: Quat = { x: a, y: b, z: c, w: d };
    const u = unpackRotation(packRotation(q));
    const dot = q.x * u.x + q.y * u.y + q.z * u.z + q.w * u.w;
    const s = dot < 0 ? -1 : 1; // q and −q are the same rotation
    for (const k of ['x', 'y', 'z', 'w'] as const)
      maxComponent = Math.max(maxComponent, Math.abs(u[k] * s - q[k]));
    maxAngleDeg = Math.max(maxAngleDeg, (2 * Math.acos(Math.min(1, Math.abs(dot))) * 180) / Math.PI);
    assert.ok(Math.abs(Math.hypot(u.x, u.y, u.z, u.w) - 1) < 1e-9, 'unit length');
  }
  assert.ok(maxComponent <= 0.002, `component error ${maxComponent}`);
  assert.ok(maxAngleDeg <= 0.3, `angle error ${maxAngleDeg}°`);
});

// The example of docs/protocol.md §4 ("STATE"): a spawn, one chunk of two updates, a remove.
const DOC_EXAMPLE =
  '82 ac02 00' +
  ' 01  07 02 06 617661746172  b717 00 a01f  fff9ffdf  15 7b22646973706c61794e616d65223a22416461227d' +
  ' 01  10 0f 02' +
  '     06 01 8827 00 dc0b' +
  '     04 03 dd5d c81a fd7c  fffdf7df' +
  ' 01  09';

test('golden bytes: header, SPAWN, CHUNK with position offsets and id deltas, removes', () => {
  const w = new ByteWriter();
  writeStateHeader(w, 300, false);
  w.varuint(1);
  writeSpawn(w, {
    id: 7,
    owner: 2,
    kind: 'avatar',
    position: { x: -1.5, y: 0, z: 2 },
    rotation: { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 },
    props: { displayName: 'Ada' },
  });
  w.varuint(1);
  writeChunk(w, 8, -8, [
    { id: 3, position: { x: 10.5, y: 0, z: -7.25 } },
    { id: 5, position: { x: 2.001, y: 1.7, z: -15.999 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
  ]);
  writeRemoves(w, [9]);
  assert.equal(hex(w.finish()), hex(bytes(DOC_EXAMPLE)));
  const s = decodeState(bytes(DOC_EXAMPLE));
  assert.equal(s.tick, 300);
  assert.equal(s.keyframe, false);
  assert.deepEqual(s.spawns[0]?.position, { x: -1.5, y: 0, z: 2 });
  assert.deepEqual(s.updates, [
    { id: 3, position: { x: 10.5, y: 0, z: -7.25 } },
    { id: 5, position: { x: 2.001, y: 1.7, z: -15.999 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
  ]);
  assert.deepEqual(s.removes, [9]);
});

test('golden bytes: a position-only update costs id delta, mask and three small varints', () => {
  const frame = encodeState({
    tick: 1,
    keyframe: true,
    spawns: [],
    updates: [{ id: 3, position: { x: 1, y: 2, z: 3 } }],
    removes: [],
  });
  // tick 1, keyframe, 0 spawns, 1 chunk at (1, 3) m, 1 update: id +3, POSITION, (0, 2000, 0) mm, 0 removes.
  assert.equal(hex(frame), '82 01 01 00 01 02 06 01 06 01 00 a01f 00 00'.replace(/ /g, ''));
  const idle = encodeState({ tick: 5, keyframe: false, spawns: [], updates: [], removes: [] });
  assert.equal(hex(idle), '8205000000' + '00');
});

test('a frame assembled from separately encoded chunks decodes like one encoded in one go', () => {
  const updates = Array.from({ length: 40 }, (_, i) => ({
    id: i * 3 + 1,
    position: { x: (rand() - 0.5) * 200, y: rand(), z: (rand() - 0.5) * 200 },
    ...(i % 3 === 0 ? { rotation: { x: 0, y: 0.6, z: 0, w: 0.8 } } : {}),
    ...(i % 7 === 0 ? { props: { anim: 'walk' } } : {}),
    ...(i % 11 === 0 ? { owner: 4 } : {}),
  }));
  const shared = new ByteWriter();
  const ranges: [number, number][] = [];
  for (let c = 0; c < 4; c++) {
    const start = shared.length;
    writeChunk(shared, c * 16 + 8, -8, updates.slice(c * 10, c * 10 + 10));
    ranges.push([start, shared.length]);
  }
  const chunks = shared.finish();
  const head = new ByteWriter();
  writeStateHeader(head, 9, false);
  head.varuint(0).varuint(ranges.length);
  const tail = new ByteWriter();
  writeRemoves(tail, [2, 5]);
  const assembled = Buffer.concat([
    head.finish(),
    ...ranges.map(([a, b]) => chunks.subarray(a, b)),
    tail.finish(),
  ]);
  const direct = encodeState({ tick: 9, keyframe: false, spawns: [], updates, removes: [2, 5] });
  assert.deepEqual(decodeState(assembled), decodeState(direct));
});

test('malformed STATE frames throw DecodeError', () => {
  for (const c of [
    '82 01 00 00 01 00 00 01 06 40 00', // unknown update field bit
    '82 01 00 00 01 00 00 01 06 21 00 00 00 00', // POSITION and POSITION_XZ
    '82 01 00 00 01 00 00 01 06 12 00 00 00 00 00 00', // ROTATION and YAW
    '82 01 00 00 01 00 00 01 06 10 00', // YAW truncated
    '82 01 00 00 01 00 00 01 06 01 00', // position truncated
    '82 01 00 01 01', // spawn truncated
    '82 01 00 00 00', // removes count missing
    '82 01 00 00 00 00 00', // trailing byte
    '82 01 00 00 01 00 00 01 01 01 00 00 00 00', // id delta below zero
  ]) {
    assert.throws(() => decodeServerFrame(bytes(c)), DecodeError, c);
  }
});

// The version-4 example of docs/protocol.md §4 ("STATE"): the chunk of the example above, compact.
const COMPACT_EXAMPLE =
  '82 ad02 00' +
  ' 00' +
  ' 01  10 0f 02' +
  '     06 30 8827 dc0b  0040' +
  '     04 11 dd5d c81a fd7c  0000' +
  ' 00';

/** The frame of the version-4, -5 and -6 examples, in `layout`. */
function exampleFrame(layout: ChunkLayout): Uint8Array {
  const w = new ByteWriter();
  writeStateHeader(w, 301, false, layout);
  w.varuint(0).varuint(1);
  writeChunk(
    w,
    8,
    -8,
    [
      {
        id: 3,
        position: { x: 10.5, y: 0, z: -7.25 },
        rotation: { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 },
      },
      { id: 5, position: { x: 2.001, y: 1.7, z: -15.999 }, rotation: { x: 0, y: 0, z: 0, w: 1 } },
    ],
    layout,
    { keepsY: (u) => u.id === 3 },
  );
  writeRemoves(w, []);
  return w.finish();
}

test('golden bytes, version 4: a yaw in two bytes, a position whose y the client holds in x and z', () => {
  assert.equal(hex(exampleFrame(ChunkLayout.COMPACT)), hex(bytes(COMPACT_EXAMPLE)));
  const s = decodeState(bytes(COMPACT_EXAMPLE));
  const [a, b] = s.updates;
  assert.deepEqual(a?.positionXZ, { x: 10.5, z: -7.25 });
  assert.equal(a?.position, undefined);
  assert.ok(Math.abs((a?.rotation?.y ?? 0) - Math.SQRT1_2) < 1e-12 && a?.rotation?.x === 0);
  assert.deepEqual(b?.position, { x: 2.001, y: 1.7, z: -15.999 });
  assert.deepEqual(b?.rotation, { x: 0, y: 0, z: 0, w: 1 });
});

// The version-5 example of docs/protocol.md §4 ("STATE"): the version-4 chunk above behind packed
// heads. Entity 3 walks and turns (form 1: no fields byte); entity 5's y changed (form 0, fields).
const PACKED_EXAMPLE =
  '82 ad02 02' +
  ' 00' +
  ' 01  10 0f 02' +
  '     0d 8827 dc0b  0040' +
  '     08 11 dd5d c81a fd7c  0000' +
  ' 00';

test("golden bytes, version 5: an update's id delta and usual fields in one byte", () => {
  assert.equal(hex(exampleFrame(ChunkLayout.PACKED)), hex(bytes(PACKED_EXAMPLE)));
  assert.deepEqual(decodeState(bytes(PACKED_EXAMPLE)), decodeState(bytes(COMPACT_EXAMPLE)));
});

// The version-6 example of docs/protocol.md §4 ("STATE"): the version-5 frame with packed motion.
// Entity 3's offsets (2500, 750) mm and yaw 1024 (a quarter turn) take five bytes after its head.
const MOTION_EXAMPLE =
  '82 ad02 06' + ' 00' + ' 01  10 0f 02' + '     0d c4a9bb0840' + '     08 11 dd5d c81a fd7c  0000' + ' 00';

test('golden bytes, version 6: a walking, turning update in six bytes', () => {
  assert.equal(hex(exampleFrame(ChunkLayout.PACKED_MOTION)), hex(bytes(MOTION_EXAMPLE)));
  // A quarter turn is a whole number of steps in both yaw forms: the decoded frames are equal.
  assert.deepEqual(decodeState(bytes(MOTION_EXAMPLE)), decodeState(bytes(PACKED_EXAMPLE)));
});

/** A frame of one chunk at (0, 0) holding `updates` in `layout`. */
function chunkFrame(layout: ChunkLayout, updates: EntityUpdate[], keepsY: (u: EntityUpdate) => boolean) {
  const w = new ByteWriter();
  writeStateHeader(w, 1, false, layout);
  w.varuint(0).varuint(1);
  writeChunk(w, 0, 0, updates, layout, { keepsY });
  writeRemoves(w, []);
  return w.finish();
}

/**
 * A chunk's worth of random updates, ids ascending and at most `maxId` (now and then close to it),
 * offsets mostly within the ±8.192 m a packed motion holds and sometimes beyond.
 */
function randomUpdates(round: number, maxId: number): EntityUpdate[] {
  const updates: EntityUpdate[] = [];
  let id = rand() < 0.1 ? maxId - 400 : Math.floor(rand() * 5000);
  for (let n = Math.floor(rand() * 12); n > 0; n--) {
    id += 1 + Math.floor(rand() * (rand() < 0.2 ? 100_000 : 40));
    if (id > maxId) break;
    const u: EntityUpdate = { id };
    const turn = rand() * 7;
    const reach = rand() < 0.8 ? 16.38 : 24;
    if (rand() < 0.7)
      u.position = { x: (rand() - 0.5) * reach, y: rand() < 0.5 ? 0 : rand() * 3, z: (rand() - 0.5) * reach };
    if (rand() < 0.7) {
      u.rotation =
        rand() < 0.8
          ? { x: 0, y: Math.sin(turn / 2), z: 0, w: Math.cos(turn / 2) }
          : { x: 0.5, y: 0.5, z: 0.5, w: 0.5 };
    }
    if (rand() < 0.1) u.props = { n: round };
    if (rand() < 0.1) u.owner = Math.floor(rand() * 100);
    updates.push(u);
  }
  return updates;
}

const someKeepY = (u: EntityUpdate) => u.id % 3 !== 0;

test('packed motion decodes like the version-5 layout, its yaw to the 4096th of a turn', () => {
  let motionBytes = 0;
  let packedBytes = 0;
  for (let round = 0; round < 300; round++) {
    const updates = randomUpdates(round, 0xffffffff);
    const motion = chunkFrame(ChunkLayout.PACKED_MOTION, updates, someKeepY);
    const packed = chunkFrame(ChunkLayout.PACKED, updates, someKeepY);
    const expected = decodeState(packed);
    for (const [i, u] of expected.updates.entries()) {
      const xz = u.positionXZ;
      const inReach = xz !== undefined && Math.abs(xz.x) < 8.192 && Math.abs(xz.z) < 8.192;
      const form1 =
        inReach && u.rotation !== undefined && isYaw(u.rotation) && !u.props && u.owner === undefined;
      const source = updates[i] as EntityUpdate;
      if (form1) u.rotation = unpackYaw(packYaw(source.rotation as Quat, MOTION_YAW_STEPS), MOTION_YAW_STEPS);
    }
    assert.deepEqual(decodeState(motion), expected);
    motionBytes += motion.length;
    packedBytes += packed.length;
  }
  assert.ok(motionBytes < packedBytes, `${motionBytes} vs ${packedBytes} bytes`);
});

test('packed motion offsets: the edges of ±8192 mm are exact, beyond them the update takes form 0', () => {
  const yaw = { x: 0, y: 0, z: 0, w: 1 };
  const edge = [
    { id: 1, position: { x: -8.192, y: 0, z: 8.191 }, rotation: yaw },
    { id: 2, position: { x: 8.191, y: 0, z: -8.192 }, rotation: yaw },
  ];
  const f = chunkFrame(ChunkLayout.PACKED_MOTION, edge, () => true);
  // Header 3, counts 2, chunk head 3, two updates of 6.
  assert.equal(f.length, 3 + 2 + 3 + 12 + 1);
  assert.deepEqual(
    decodeState(f).updates.map((u) => u.positionXZ),
    edge.map((u) => ({ x: u.position.x, z: u.position.z })),
  );
  const beyond = [{ id: 1, position: { x: 8.192, y: 0, z: 0 }, rotation: yaw }];
  const g = chunkFrame(ChunkLayout.PACKED_MOTION, beyond, () => true);
  assert.equal(g[8], 4, 'form 0 behind an id delta of 1');
  assert.deepEqual(decodeState(g).updates[0]?.positionXZ, { x: 8.192, z: 0 });
});

test('packed heads decode to the same updates as the version-4 layout, whatever the fields and ids', () => {
  let packedBytes = 0;
  let compactBytes = 0;
  for (let round = 0; round < 300; round++) {
    // Ids below 2^31: the version-4 layout's zigzag deltas go no further (packed heads reach 2^32 − 1).
    const updates = randomUpdates(round, 2 ** 31 - 1);
    const frame = (layout: ChunkLayout) => chunkFrame(layout, updates, someKeepY);
    const packed = frame(ChunkLayout.PACKED);
    const compact = frame(ChunkLayout.COMPACT);
    assert.deepEqual(decodeState(packed), decodeState(compact));
    packedBytes += packed.length;
    compactBytes += compact.length;
  }
  // A head with a fields byte may take one byte more than a zigzag delta (its delta is × 4, not × 2).
  assert.ok(packedBytes < compactBytes, `${packedBytes} vs ${compactBytes} bytes`);
  const w = new ByteWriter();
  writeStateHeader(w, 1, false, ChunkLayout.PACKED);
  w.varuint(0).varuint(1);
  writeChunk(w, 0, 0, [{ id: 0xffffffff, rotation: { x: 0, y: 0, z: 0, w: 1 } }], ChunkLayout.PACKED);
  writeRemoves(w, []);
  assert.equal(decodeState(w.finish()).updates[0]?.id, 0xffffffff, 'the largest id');
});

test('malformed packed heads throw DecodeError', () => {
  for (const c of [
    '82 01 02 00 01 00 00 01 ffffffff7f 00', // head beyond an id delta below 2^32
    '82 01 02 00 01 00 00 01 04', // form 0 without its fields byte
    '82 01 02 00 01 00 00 01 05 00', // form 1 (x, z, yaw) truncated
    '82 01 02 00 01 00 00 02 fcffffff3f 04 00', // id beyond 2^32 − 1
    '82 01 02 00 01 00 00 01 00 40 00', // unknown update field bit behind form 0
    '82 01 04 00 01 00 00 01 05 0000000000 00', // PACKED_MOTION without PACKED_HEADS
    '82 01 06 00 01 00 00 01 05 00000000', // a packed motion truncated
    '82 01 06 00 01 00 00 02 fcffffff3f 04 0000000000 00', // id beyond 2^32 − 1 in a packed motion
  ]) {
    assert.throws(() => decodeServerFrame(bytes(c)), DecodeError, c);
  }
});

test('yaws: any turn about +y round-trips within 0.003°; other rotations keep the packed form', () => {
  let maxDeg = 0;
  for (let i = 0; i < 20_000; i++) {
    const angle = (rand() * 2 - 1) * 4 * Math.PI;
    const sign = rand() < 0.5 ? -1 : 1; // q and −q are the same rotation
    const q = { x: 0, y: sign * Math.sin(angle / 2), z: 0, w: sign * Math.cos(angle / 2) };
    assert.ok(isYaw(q));
    const u = unpackYaw(packYaw(q));
    const dot = Math.abs(q.y * u.y + q.w * u.w);
    maxDeg = Math.max(maxDeg, (2 * Math.acos(Math.min(1, dot)) * 180) / Math.PI);
  }
  assert.ok(maxDeg <= 0.003, `yaw error ${maxDeg}°`);
  let motionDeg = 0;
  for (let i = 0; i < 20_000; i++) {
    const angle = (rand() * 2 - 1) * 4 * Math.PI;
    const q = { x: 0, y: Math.sin(angle / 2), z: 0, w: Math.cos(angle / 2) };
    const u = unpackYaw(packYaw(q, MOTION_YAW_STEPS), MOTION_YAW_STEPS);
    const dot = Math.abs(q.y * u.y + q.w * u.w);
    motionDeg = Math.max(motionDeg, (2 * Math.acos(Math.min(1, dot)) * 180) / Math.PI);
  }
  assert.ok(motionDeg <= 0.045, `packed motion yaw error ${motionDeg}°`);
  const tilted = { x: 0.1, y: 0.5, z: 0, w: Math.sqrt(1 - 0.26) };
  assert.equal(isYaw(tilted), false);
  const w = new ByteWriter();
  writeChunk(w, 0, 0, [{ id: 1, rotation: tilted }], ChunkLayout.COMPACT, { keepsY: () => true });
  const decoded = decodeState(Uint8Array.from([...bytes('82 01 00 00 01'), ...w.finish(), 0])).updates[0];
  assert.deepEqual(decoded?.rotation, quantizeRotation(tilted));
});
