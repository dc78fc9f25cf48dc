import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientOp, ServerOp } from '../opcodes.ts';
import { DecodeError } from './byte-reader.ts';
import { encodeSetEntity } from './entity-frames.ts';
import {
  decodeClientFrame,
  decodeMoveInto,
  decodeServerFrame,
  emptyMoveFrame,
  encodeError,
  encodeHello,
  encodeLeave,
  encodeMove,
  encodeMoveAck,
  encodePing,
  encodePong,
  encodeState,
  encodeWelcome,
  type StateFrame,
} from './frames.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

// Golden fixtures: these bytes are the wire format of docs/protocol.md; a change here is a protocol change.
test('HELLO encodes as opcode, varuint version, length-prefixed ticket', () => {
  assert.equal(hex(encodeHello(1, 'abc')), '0101' + '03616263');
  assert.deepEqual(decodeClientFrame(bytes('0101 03616263')), {
    op: ClientOp.HELLO,
    protocolVersion: 1,
    ticket: 'abc',
  });
});

test('MOVE encodes entity id and float32 little-endian transform', () => {
  const frame = encodeMove(300, { x: 1, y: 0, z: -2 }, { x: 0, y: 0, z: 0, w: 1 });
  assert.equal(
    hex(frame),
    ['02', 'ac02', '0000803f', '00000000', '000000c0', '00000000', '00000000', '00000000', '0000803f'].join(
      '',
    ),
  );
  assert.deepEqual(decodeClientFrame(frame), {
    op: ClientOp.MOVE,
    entityId: 300,
    position: { x: 1, y: 0, z: -2 },
    rotation: { x: 0, y: 0, z: 0, w: 1 },
  });
});

test('PING, LEAVE and PONG round-trip', () => {
  assert.deepEqual(decodeClientFrame(encodePing(1234.5)), { op: ClientOp.PING, clientTimeMs: 1234.5 });
  assert.equal(hex(encodeLeave()), '04');
  assert.deepEqual(decodeServerFrame(encodePong(1, 2)), {
    op: ServerOp.PONG,
    clientTimeMs: 1,
    serverTimeMs: 2,
  });
});

test('STATE keyframe and delta round-trip with only changed fields', () => {
  const state: StateFrame = {
    tick: 7,
    keyframe: false,
    spawns: [
      {
        id: 1,
        owner: 2,
        kind: 'avatar',
        position: { x: 0.5, y: 0, z: 1.5 },
        rotation: { x: 0, y: 0, z: 0, w: 1 },
        props: { displayName: 'Ada' },
      },
    ],
    updates: [
      { id: 3, position: { x: 1, y: 2, z: 3 } },
      { id: 4, props: { anim: 'walk' } },
    ],
    removes: [9],
  };
  const encoded = encodeState(state);
  assert.deepEqual(decodeServerFrame(encoded), { op: ServerOp.STATE, ...state });
  // An update carrying only a position (protocol v2, state.ts): one chunk at (1, 3) m, id delta
  // +3, mask 0x01, three zigzag varints of millimetres relative to the chunk origin.
  const posOnly = encodeState({
    tick: 1,
    keyframe: true,
    spawns: [],
    updates: [{ id: 3, position: { x: 1, y: 2, z: 3 } }],
    removes: [],
  });
  assert.equal(
    hex(posOnly),
    '82' + '01' + '01' + '00' + '01' + '0206' + '01' + '06' + '01' + '00a01f00' + '00',
  );
});

test('WELCOME and ERROR round-trip', () => {
  const welcome = {
    protocolVersion: 1,
    clientId: 5,
    selfId: 12,
    playgroundId: 'lobby',
    serverId: 'ds-1',
    tickRateHz: 20,
    serverTimeMs: 1000,
  };
  assert.deepEqual(decodeServerFrame(encodeWelcome(welcome)), { op: ServerOp.WELCOME, welcome });
  assert.deepEqual(decodeServerFrame(encodeError(5004, 'PROTOCOL_TICKET_INVALID', 'bad')), {
    op: ServerOp.ERROR,
    code: 5004,
    name: 'PROTOCOL_TICKET_INVALID',
    message: 'bad',
  });
});

// Protocol v3 (docs/protocol.md §3–4, §5.10): optional trailing fields; without them, v2's bytes.
test('v3 MOVE carries a trailing varuint seq after the transform', () => {
  const frame = encodeMove(300, { x: 1, y: 0, z: -2 }, { x: 0, y: 0, z: 0, w: 1 }, 17);
  assert.equal(
    hex(frame),
    [
      '02',
      'ac02',
      '0000803f',
      '00000000',
      '000000c0',
      '00000000',
      '00000000',
      '00000000',
      '0000803f',
      '11',
    ].join(''),
  );
  assert.deepEqual(decodeClientFrame(frame), {
    op: ClientOp.MOVE,
    entityId: 300,
    position: { x: 1, y: 0, z: -2 },
    rotation: { x: 0, y: 0, z: 0, w: 1 },
    seq: 17,
  });
});

test('a MOVE decoded into a reused frame equals its decodeClientFrame, v2 and v3 alike', () => {
  const frame = emptyMoveFrame();
  const { position, rotation } = frame;
  const v3 = encodeMove(300, { x: 1, y: 0, z: -2 }, { x: 0, y: 0, z: 0, w: 1 }, 17);
  const v2 = encodeMove(7, { x: 3, y: 4, z: 5 }, { x: 0, y: 1, z: 0, w: 0 });
  for (const bytes of [v3, v2, v3]) {
    assert.deepEqual({ ...decodeMoveInto(bytes, frame) }, { seq: undefined, ...decodeClientFrame(bytes) });
  }
  assert.equal(frame.position, position, 'the frame keeps its own objects');
  assert.equal(frame.rotation, rotation);
  // The same DecodeError, message included (it goes into the ERROR frame).
  const failure = (decode: () => unknown) => {
    try {
      decode();
    } catch (err) {
      assert.ok(err instanceof DecodeError);
      return err.message;
    }
    return assert.fail('decoded');
  };
  for (const c of [
    '02 01 0000803f',
    `02 01 ${'00000000'.repeat(7)} ffffffffff7f`,
    `02 01 ${'00'.repeat(30)}`,
  ]) {
    const b = bytes(c);
    assert.equal(
      failure(() => decodeMoveInto(b, frame)),
      failure(() => decodeClientFrame(b)),
      c,
    );
  }
});

test('v3 SET_ENTITY with a transform carries a trailing varuint seq', () => {
  const frame = encodeSetEntity(5, { position: { x: 1, y: 0, z: -2 } }, 18);
  assert.equal(hex(frame), '05' + '05' + '01' + '0000803f' + '00000000' + '000000c0' + '12');
  assert.deepEqual(decodeClientFrame(frame), {
    op: ClientOp.SET_ENTITY,
    entityId: 5,
    position: { x: 1, y: 0, z: -2 },
    seq: 18,
  });
  assert.equal(hex(encodeSetEntity(5, { position: { x: 1, y: 0, z: -2 } })), hex(frame).slice(0, -2));
});

test('MOVE_ACK encodes the last applied seq, then each refused entity, seq and u16 code', () => {
  const frame = encodeMoveAck(17, [{ entityId: 5, seq: 18, code: 5015 }]);
  assert.equal(hex(frame), '89' + '11' + '01' + '05' + '12' + '9713');
  assert.deepEqual(decodeServerFrame(frame), {
    op: ServerOp.MOVE_ACK,
    lastAppliedSeq: 17,
    refused: [{ entityId: 5, seq: 18, code: 5015 }],
  });
  assert.deepEqual(decodeServerFrame(bytes('89 ac02 00')), {
    op: ServerOp.MOVE_ACK,
    lastAppliedSeq: 300,
    refused: [],
  });
  assert.throws(() => decodeServerFrame(bytes('89 11 01 05 12 97')), DecodeError, 'code truncated');
  assert.throws(() => decodeServerFrame(bytes('89 11 41')), DecodeError, 'more refusals than the limit');
});

test('WELCOME of a v3 session carries the version after its JSON body; absent means 2', () => {
  const welcome = {
    protocolVersion: 3,
    clientId: 5,
    selfId: 12,
    playgroundId: 'lobby',
    serverId: 'ds-1',
    tickRateHz: 20,
    serverTimeMs: 1000,
  };
  const frame = encodeWelcome(welcome, 3);
  assert.equal(hex(frame).slice(-2), '03');
  assert.deepEqual(decodeServerFrame(frame), { op: ServerOp.WELCOME, welcome, protocolVersion: 3 });
  assert.equal(hex(encodeWelcome(welcome)), hex(frame).slice(0, -2));
  assert.equal('protocolVersion' in decodeServerFrame(encodeWelcome(welcome)), false);
});

test('malformed frames throw DecodeError, never anything else', () => {
  const cases = [
    '', // empty
    '7f', // unknown opcode
    '01', // HELLO without version
    '0101 05616263', // ticket shorter than its length
    '0101 03616263 00', // trailing byte
    '02 01 0000803f', // MOVE truncated
    '01 ffffffffff7f 00', // varuint too long
    '0101 02c328', // invalid UTF-8
  ];
  for (const c of cases) assert.throws(() => decodeClientFrame(bytes(c)), DecodeError, c);
  assert.throws(
    () => decodeServerFrame(bytes('82 01 00 00 01 0000 01 06 10 00')),
    DecodeError,
    'unknown update bits',
  );
  assert.throws(() => decodeServerFrame(bytes('81 02 5b5d')), DecodeError, 'welcome not an object');
});

test('decoding random bytes never throws anything but DecodeError', () => {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  for (let i = 0; i < 2000; i++) {
    const b = new Uint8Array(rand() % 40);
    for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff;
    if (b.length > 0) b[0] = [0x01, 0x02, 0x03, 0x04, 0x82][rand() % 5] as number;
    for (const decode of [decodeClientFrame, decodeServerFrame]) {
      try {
        decode(b);
      } catch (err) {
        assert.ok(err instanceof DecodeError, String(err));
      }
    }
  }
});
