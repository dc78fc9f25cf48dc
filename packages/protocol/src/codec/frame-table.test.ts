import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthorityAction, ClientOp, type ClientOpcode, ServerOp, type ServerOpcode } from '../opcodes.ts';
import {
  type ClientFrame,
  type ClientFrameHandlers,
  clientFrames,
  decodeClientFrame,
  decodeServerFrame,
  dispatchFrame,
  type FrameHandlers,
  type FrameTable,
  isRequestFrame,
  type ServerFrame,
  serverFrames,
  WireLimits,
} from './frames.ts';

// ---------------------------------------------------------------- compile-time checks
// Each `@ts-expect-error` below must stay an error: `tsc` (npm run typecheck) fails on an unused one,
// so these lines prove that an opcode without an encoder/decoder or a handler does not compile.

/** A protocol with one more client opcode than today's. */
type WiderOpcode = ClientOpcode | 0x7f;
type WiderFrame = ClientFrame | { op: 0x7f; n: number };

// @ts-expect-error the table has no codec for opcode 0x7f
export const tableMissingAnOpcode: FrameTable<WiderOpcode, WiderFrame> = clientFrames;

const { [ClientOp.PING]: _pingCodec, ...withoutPing } = clientFrames;
// @ts-expect-error a table without PING's entry is not a client frame table
export const tableWithoutPing: FrameTable<ClientOpcode, ClientFrame> = withoutPing;

const noop = (): void => {};
const handlersOfToday: ClientFrameHandlers = {
  [ClientOp.HELLO]: noop,
  [ClientOp.MOVE]: noop,
  [ClientOp.PING]: noop,
  [ClientOp.LEAVE]: noop,
  [ClientOp.SET_ENTITY]: noop,
  [ClientOp.SPAWN]: noop,
  [ClientOp.DESPAWN]: noop,
  [ClientOp.AUTHORITY]: noop,
  [ClientOp.MESSAGE]: noop,
};
// @ts-expect-error a receiver without a handler for opcode 0x7f does not compile
export const handlersMissingAnOpcode: FrameHandlers<WiderOpcode, WiderFrame> = handlersOfToday;

// @ts-expect-error a receiver without a MESSAGE handler does not compile
export const handlersWithoutMessage: ClientFrameHandlers = {
  [ClientOp.HELLO]: noop,
  [ClientOp.MOVE]: noop,
  [ClientOp.PING]: noop,
  [ClientOp.LEAVE]: noop,
  [ClientOp.SET_ENTITY]: noop,
  [ClientOp.SPAWN]: noop,
  [ClientOp.DESPAWN]: noop,
  [ClientOp.AUTHORITY]: noop,
};

// ---------------------------------------------------------------- runtime checks

const quat = { x: 0, y: 0, z: 0, w: 1 };
const pos = { x: 1.5, y: 0, z: -2.25 };

/** One frame of every opcode, as a decoder returns it. */
const clientSamples: { [K in ClientOpcode]: Extract<ClientFrame, { op: K }> } = {
  [ClientOp.HELLO]: { op: ClientOp.HELLO, protocolVersion: 2, ticket: 'abc' },
  [ClientOp.MOVE]: { op: ClientOp.MOVE, entityId: 7, position: pos, rotation: quat },
  [ClientOp.PING]: { op: ClientOp.PING, clientTimeMs: 12.5 },
  [ClientOp.LEAVE]: { op: ClientOp.LEAVE },
  [ClientOp.SET_ENTITY]: { op: ClientOp.SET_ENTITY, entityId: 3, props: { a: 1 } },
  [ClientOp.SPAWN]: {
    op: ClientOp.SPAWN,
    requestId: 1,
    kind: 'box',
    position: pos,
    rotation: quat,
    props: {},
  },
  [ClientOp.DESPAWN]: { op: ClientOp.DESPAWN, requestId: 2, entityId: 9 },
  [ClientOp.AUTHORITY]: {
    op: ClientOp.AUTHORITY,
    requestId: 3,
    action: AuthorityAction.TRANSFER,
    entityId: 9,
    targetClientId: 4,
  },
  [ClientOp.MESSAGE]: { op: ClientOp.MESSAGE, type: 'chat', payload: { text: 'hi' } },
};

const serverSamples: { [K in ServerOpcode]: Extract<ServerFrame, { op: K }> } = {
  [ServerOp.WELCOME]: {
    op: ServerOp.WELCOME,
    welcome: {
      protocolVersion: 2,
      clientId: 1,
      selfId: 2,
      playgroundId: 'pg',
      serverId: 's',
      tickRateHz: 20,
      serverTimeMs: 5,
    },
  },
  [ServerOp.STATE]: { op: ServerOp.STATE, tick: 4, keyframe: true, spawns: [], updates: [], removes: [8] },
  [ServerOp.PONG]: { op: ServerOp.PONG, clientTimeMs: 1, serverTimeMs: 2 },
  [ServerOp.ERROR]: { op: ServerOp.ERROR, code: 4001, name: 'PROTOCOL_NOT_OWNER', message: 'no' },
  [ServerOp.RESULT]: { op: ServerOp.RESULT, requestId: 3, code: 0, value: 9, message: '' },
  [ServerOp.MESSAGE]: { op: ServerOp.MESSAGE, from: 0, type: 'chat', payload: [1, 'two'] },
  [ServerOp.REDIRECT]: {
    op: ServerOp.REDIRECT,
    redirect: { playgroundId: 'pg', endpoint: 'ws://x', ticket: 't', reason: 'drain' },
  },
  [ServerOp.EVENT]: {
    op: ServerOp.EVENT,
    event: { id: 'e', type: 't', at: 1, target: { all: true }, payload: null, from: { kind: 'operator' } },
  },
  [ServerOp.MOVE_ACK]: {
    op: ServerOp.MOVE_ACK,
    lastAppliedSeq: 41,
    refused: [{ entityId: 7, seq: 42, code: 5015 }],
  },
};

test('every opcode has exactly one table entry, keyed by its own opcode', () => {
  assert.deepEqual(Object.keys(clientFrames).map(Number).sort(), Object.values(ClientOp).sort());
  assert.deepEqual(Object.keys(serverFrames).map(Number).sort(), Object.values(ServerOp).sort());
  for (const [op, codec] of Object.entries({ ...clientFrames, ...serverFrames })) {
    assert.equal(codec.op, Number(op));
  }
});

test('each table entry encodes a frame its decoder reads back unchanged', () => {
  for (const op of Object.values(ClientOp)) {
    const frame = clientSamples[op];
    const codec = clientFrames[op] as unknown as { encode(f: ClientFrame): Uint8Array };
    assert.deepEqual(decodeClientFrame(codec.encode(frame)), frame, clientFrames[op].name);
  }
  for (const op of Object.values(ServerOp)) {
    const frame = serverSamples[op];
    const codec = serverFrames[op] as unknown as { encode(f: ServerFrame): Uint8Array };
    assert.deepEqual(decodeServerFrame(codec.encode(frame)), frame, serverFrames[op].name);
  }
});

test('the requests the drain path answers are the table entries marked request: those with a requestId', () => {
  for (const frame of Object.values(clientSamples)) {
    assert.equal(isRequestFrame(frame), 'requestId' in frame, clientFrames[frame.op].name);
  }
});

test('table limits are the WireLimits values, and a field over its limit is malformed', () => {
  for (const codec of [...Object.values(clientFrames), ...Object.values(serverFrames)]) {
    for (const [name, bytes] of Object.entries(codec.limits)) {
      assert.equal(bytes, WireLimits[name as keyof typeof WireLimits], `${codec.name}.${name}`);
    }
  }
  const long = clientFrames[ClientOp.HELLO].encode({
    op: ClientOp.HELLO,
    protocolVersion: 2,
    ticket: 'x'.repeat(WireLimits.ticketBytes + 1),
  });
  assert.throws(() => decodeClientFrame(long), /string/);
});

test('dispatchFrame calls the handler of the frame opcode', () => {
  const seen: string[] = [];
  const handlers: ClientFrameHandlers = {
    ...handlersOfToday,
    [ClientOp.MOVE]: (f) => seen.push(`move ${f.entityId}`),
    [ClientOp.PING]: (f) => seen.push(`ping ${f.clientTimeMs}`),
  };
  dispatchFrame(handlers, clientSamples[ClientOp.MOVE]);
  dispatchFrame(handlers, clientSamples[ClientOp.PING]);
  assert.deepEqual(seen, ['move 7', 'ping 12.5']);
});
