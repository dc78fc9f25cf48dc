import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthorityAction, ClientOp, ServerOp } from '../opcodes.ts';
import { DecodeError } from './byte-reader.ts';
import {
  encodeAuthority,
  encodeClientMessage,
  encodeDespawn,
  encodeResult,
  encodeServerMessage,
  encodeSetEntity,
  encodeSpawn,
} from './entity-frames.ts';
import { decodeClientFrame, decodeServerFrame, encodeState } from './frames.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

test('AUTHORITY golden bytes: request id, action, entity, target', () => {
  assert.equal(
    hex(encodeAuthority(7, AuthorityAction.TRANSFER, 300, 2)),
    ['08', '07', '03', 'ac02', '02'].join(''),
  );
  assert.deepEqual(decodeClientFrame(bytes('08 07 01 05 00')), {
    op: ClientOp.AUTHORITY,
    requestId: 7,
    action: AuthorityAction.REQUEST,
    entityId: 5,
    targetClientId: 0,
  });
  assert.throws(() => decodeClientFrame(bytes('08 07 09 05 00')), DecodeError);
});

test('SET_ENTITY carries only the fields present', () => {
  const frame = encodeSetEntity(3, { props: { color: 'red' } });
  assert.equal(hex(frame), `050304${Buffer.from('\u000f{"color":"red"}').toString('hex')}`);
  assert.deepEqual(decodeClientFrame(frame), {
    op: ClientOp.SET_ENTITY,
    entityId: 3,
    props: { color: 'red' },
  });
  const moved = decodeClientFrame(encodeSetEntity(3, { position: { x: 1, y: 2, z: 3 } }));
  assert.deepEqual(moved, { op: ClientOp.SET_ENTITY, entityId: 3, position: { x: 1, y: 2, z: 3 } });
  assert.throws(() => decodeClientFrame(bytes('05 03 00')), DecodeError, 'no fields');
  assert.throws(() => decodeClientFrame(bytes('05 03 08 01')), DecodeError, 'owner is not settable');
});

test('SPAWN, DESPAWN and MESSAGE round-trip', () => {
  const spawn = {
    kind: 'object',
    position: { x: 1, y: 0, z: 2 },
    rotation: { x: 0, y: 0, z: 0, w: 1 },
    props: { a: 1 },
  };
  assert.deepEqual(
    decodeClientFrame(encodeSpawn(1, spawn.kind, spawn.position, spawn.rotation, spawn.props)),
    {
      op: ClientOp.SPAWN,
      requestId: 1,
      ...spawn,
    },
  );
  assert.deepEqual(decodeClientFrame(encodeDespawn(2, 9)), {
    op: ClientOp.DESPAWN,
    requestId: 2,
    entityId: 9,
  });
  assert.deepEqual(decodeClientFrame(encodeClientMessage('chat', { text: 'hi' })), {
    op: ClientOp.MESSAGE,
    type: 'chat',
    payload: { text: 'hi' },
  });
  assert.throws(() => decodeClientFrame(encodeClientMessage('', 1)), DecodeError, 'empty type');
  const tooBig = encodeClientMessage('blob', 'x'.repeat(9000));
  assert.throws(() => decodeClientFrame(tooBig), DecodeError, 'payload over the limit');
});

test('RESULT and server MESSAGE round-trip', () => {
  assert.equal(hex(encodeResult(7, 0, 12, '')), '8507000c00');
  assert.deepEqual(decodeServerFrame(encodeResult(7, 5009, 3, 'not yours')), {
    op: ServerOp.RESULT,
    requestId: 7,
    code: 5009,
    value: 3,
    message: 'not yours',
  });
  assert.deepEqual(decodeServerFrame(encodeServerMessage(0, 'door', { open: true })), {
    op: ServerOp.MESSAGE,
    from: 0,
    type: 'door',
    payload: { open: true },
  });
});

test('a STATE update can carry an owner change', () => {
  const frame = encodeState({
    tick: 2,
    keyframe: false,
    spawns: [],
    updates: [{ id: 4, owner: 3 }],
    removes: [],
  });
  // One chunk at the origin, id delta +4 (zigzag 08), fields OWNER, owner 3, no removes.
  assert.equal(hex(frame), '82020000' + '01' + '000001' + '0808' + '03' + '00');
  const decoded = decodeServerFrame(frame);
  assert.ok(decoded.op === ServerOp.STATE);
  assert.deepEqual(decoded.updates, [{ id: 4, owner: 3 }]);
});
