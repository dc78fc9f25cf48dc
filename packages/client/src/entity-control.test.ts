import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AuthorityAction,
  ClientOp,
  decodeClientFrame,
  type EntityState,
  type EntityUpdate,
  ErrorCodes,
  encodeError,
  encodeMoveAck,
  encodePong,
  encodeResult,
  encodeServerMessage,
  encodeState,
  encodeWelcome,
  PROTOCOL_VERSION,
} from '@plexus/protocol';
import type { OpenWorldKinds } from './kinds.ts';
import { connectPlayground, type Playground } from './playground.ts';
import { FakeWebSocket } from './test-support.ts';

// Spawn, despawn, authority, custom messages, prediction of owned entities and sample(), against
// an in-memory WebSocket playing the server.

const Q = { x: 0, y: 0, z: 0, w: 1 };
const ME = 3;
const SELF = 30;

function avatar(id: number, owner: number, x = 0): EntityState {
  return {
    id,
    owner,
    kind: 'avatar',
    position: { x, y: 0, z: 0 },
    rotation: Q,
    props: { displayName: `n${id}` },
  };
}

function box(id: number, owner = 0, x = 0): EntityState {
  return { id, owner, kind: 'object', position: { x, y: 0, z: 0 }, rotation: Q, props: { color: 'red' } };
}

interface Harness {
  pg: Playground<OpenWorldKinds>;
  ws: FakeWebSocket;
  tick: number;
  /** Sends a delta STATE frame (next tick). */
  state(frame: { spawns?: EntityState[]; updates?: EntityUpdate[]; removes?: number[] }): void;
  /** The client frames sent since the last call, decoded. */
  sent(): ReturnType<typeof decodeClientFrame>[];
  /** Answers the last request frame sent. */
  answer(code: number, value: number, message?: string): void;
}

/** `version`: what WELCOME says after its body (undefined: a version-2 server, as before). */
async function joined(spawns: EntityState[] = [], options = {}, version?: number): Promise<Harness> {
  const promise = connectPlayground<OpenWorldKinds>(
    { endpoint: 'ws://ds.test/ws', ticket: 't', serverId: 'ds-1', playgroundId: 'p', expiresAt: '' },
    { WebSocket: FakeWebSocket, pingIntervalMs: 60_000, ...options },
  );
  const ws = FakeWebSocket.last as FakeWebSocket;
  ws.serverOpen();
  ws.serverSend(
    encodeWelcome(
      {
        protocolVersion: PROTOCOL_VERSION,
        clientId: ME,
        selfId: SELF,
        playgroundId: 'p',
        serverId: 'ds-1',
        tickRateHz: 20,
        serverTimeMs: 0,
      },
      version,
    ),
  );
  ws.serverSend(
    encodeState({ tick: 1, keyframe: true, spawns: [avatar(SELF, ME), ...spawns], updates: [], removes: [] }),
  );
  const pg = await promise;
  let seen = ws.sent.length;
  const h: Harness = {
    pg,
    ws,
    tick: 1,
    state(frame) {
      h.tick++;
      ws.serverSend(
        encodeState({ tick: h.tick, keyframe: false, spawns: [], updates: [], removes: [], ...frame }),
      );
    },
    sent() {
      const frames = ws.sent.slice(seen).map((b) => decodeClientFrame(b));
      seen = ws.sent.length;
      return frames;
    },
    answer(code, value, message = '') {
      const last = ws.sent.map((b) => decodeClientFrame(b)).findLast((f) => 'requestId' in f);
      assert.ok(last && 'requestId' in last, 'a request was sent');
      ws.serverSend(encodeResult(last.requestId, code, value, message));
    },
  };
  return h;
}

const HELD = ErrorCodes.PROTOCOL_AUTHORITY_HELD;

test('spawn sends SPAWN and resolves with the entity id once the entity is mirrored', async () => {
  const h = await joined();
  const spawned = h.pg.spawn({ kind: 'object', position: { x: 1, y: 0, z: 1 }, props: { color: 'blue' } });
  const [frame] = h.sent();
  assert.deepEqual(frame, {
    op: ClientOp.SPAWN,
    requestId: (frame as { requestId: number }).requestId,
    kind: 'object',
    position: { x: 1, y: 0, z: 1 },
    rotation: Q,
    props: { color: 'blue' },
  });
  let done = false;
  void spawned.then(() => {
    done = true;
  });
  h.answer(0, 44);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false, 'waits for the entity to appear');
  h.state({ spawns: [box(44, 0, 1)] });
  assert.deepEqual(await spawned, { ok: true, entityId: 44 });
  assert.equal(h.pg.entities.get(44)?.kind, 'object');
  await h.pg.leave();
});

test('a refused spawn and despawn resolve to the error; despawn sends DESPAWN', async () => {
  const h = await joined([box(5)]);
  const spawned = h.pg.spawn({ kind: 'object', position: { x: 0, y: 0, z: 0 } });
  h.answer(ErrorCodes.PROTOCOL_SPAWN_LIMIT.code, 0, 'at most 16');
  const outcome = await spawned;
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.error.name, 'PROTOCOL_SPAWN_LIMIT');
  h.sent();
  const despawned = h.pg.despawn(5);
  const [frame] = h.sent();
  assert.equal(frame?.op, ClientOp.DESPAWN);
  assert.equal((frame as { entityId: number }).entityId, 5);
  h.answer(0, 5);
  assert.deepEqual(await despawned, { ok: true, entityId: 5 });
  await h.pg.leave();
});

test('requestAuthority: granted → owner at once with authorityChanged; refused while held', async () => {
  const h = await joined([box(5), box(6, 9)]);
  const changes: string[] = [];
  h.pg.on('authorityChanged', (e, from, to) => changes.push(`${e.id}:${from}->${to}`));
  assert.equal(h.pg.isOwner(5), false);
  assert.equal(h.pg.setEntity(5, { position: { x: 1, y: 0, z: 0 } }), false, 'not owned: nothing sent');
  h.sent();

  const granted = h.pg.requestAuthority(5);
  const [frame] = h.sent();
  assert.equal(frame?.op, ClientOp.AUTHORITY);
  assert.equal((frame as { action: number }).action, AuthorityAction.REQUEST);
  h.answer(0, 5);
  assert.deepEqual(await granted, { ok: true, entityId: 5 });
  assert.equal(h.pg.isOwner(5), true);
  assert.deepEqual(changes, [`5:0->${ME}`]);
  // The owner update that follows changes nothing.
  h.state({ updates: [{ id: 5, owner: ME }] });
  assert.deepEqual(changes, [`5:0->${ME}`]);

  const refused = h.pg.requestAuthority(6);
  h.answer(HELD.code, 0, 'held by client 9');
  const outcome = await refused;
  assert.equal(!outcome.ok && outcome.error.name, 'PROTOCOL_AUTHORITY_HELD');
  assert.equal(h.pg.isOwner(6), false);
  await h.pg.leave();
});

test("authorityChanged follows other clients' owner updates, also in keyframes", async () => {
  const h = await joined([box(5)]);
  const changes: string[] = [];
  h.pg.on('authorityChanged', (e, from, to) => changes.push(`${e.id}:${from}->${to}`));
  h.state({ updates: [{ id: 5, owner: 7 }] });
  h.tick++;
  h.ws.serverSend(
    encodeState({
      tick: h.tick,
      keyframe: true,
      spawns: [avatar(SELF, ME), box(5, 8)],
      updates: [],
      removes: [],
    }),
  );
  h.state({ updates: [{ id: 5, owner: 0 }] });
  assert.deepEqual(changes, ['5:0->7', '5:7->8', '5:8->0']);
  await h.pg.leave();
});

test('release and transfer: no longer owned once answered; the owner update ends the prediction', async () => {
  const h = await joined([box(5, ME), box(6, ME)]);
  assert.equal(h.pg.setEntity(5, { position: { x: 2, y: 0, z: 0 } }), true);
  const released = h.pg.releaseAuthority(5);
  h.answer(0, 5);
  assert.equal((await released).ok, true);
  assert.equal(h.pg.isOwner(5), false);
  assert.equal(h.pg.setEntity(5, { position: { x: 3, y: 0, z: 0 } }), false);
  h.state({ updates: [{ id: 5, position: { x: 2, y: 0, z: 0 }, owner: 0 }] });
  assert.equal(h.pg.entities.get(5)?.position.x, 2);
  assert.equal(h.pg.sample().find((s) => s.id === 5)?.predicted, false);

  h.sent();
  const transferred = h.pg.transferAuthority(6, 9);
  const [frame] = h.sent();
  assert.equal((frame as { targetClientId: number }).targetClientId, 9);
  assert.equal((frame as { action: number }).action, AuthorityAction.TRANSFER);
  h.answer(0, 6);
  assert.equal((await transferred).ok, true);
  assert.equal(h.pg.isOwner(6), false);
  await h.pg.leave();
});

test('setEntity predicts at once and sends SET_ENTITY; the avatar moves with MOVE', async () => {
  const h = await joined([box(5, ME)]);
  const changed: string[] = [];
  h.pg.on('entityChanged', (e, fields) => changed.push(`${e.id}:${fields.join(',')}`));
  assert.equal(h.pg.setEntity<'object'>(5, { position: { x: 1, y: 2, z: 3 }, props: { label: 'A' } }), true);
  assert.deepEqual(h.pg.entities.get(5)?.position, { x: 1, y: 2, z: 3 });
  assert.deepEqual(h.pg.entities.get(5)?.props, { color: 'red', label: 'A' });
  assert.deepEqual(changed, ['5:position,props']);
  h.pg.move({ position: { x: 0.5, y: 0, z: 0 } });
  const [set, move] = h.sent();
  assert.deepEqual(set, {
    op: ClientOp.SET_ENTITY,
    entityId: 5,
    position: { x: 1, y: 2, z: 3 },
    props: { label: 'A' },
  });
  assert.equal(move?.op, ClientOp.MOVE);
  await h.pg.leave();
});

test('accepted moves never snap, even when the echoes lag; a refused one snaps back, others stay', async () => {
  const h = await joined([box(5, ME), box(6, ME)]);
  const corrected: number[] = [];
  h.pg.on('corrected', (e) => corrected.push(e.id));
  const x5: number[] = [];
  h.pg.on('entityChanged', (e) => {
    if (e.id === 5) x5.push(e.position.x);
  });
  for (let i = 1; i <= 5; i++) h.pg.setEntity(5, { position: { x: i, y: 0, z: 0 } });
  // Echoes two sends behind, quantised a little.
  for (let i = 1; i <= 3; i++) h.state({ updates: [{ id: 5, position: { x: i + 0.001, y: 0, z: 0 } }] });
  assert.deepEqual(x5, [1, 2, 3, 4, 5], 'only local changes, no snap');
  assert.equal(h.pg.entities.get(5)?.position.x, 5);

  // Entity 6 moves legally, entity 5 jumps too far; the server refuses the jump.
  h.pg.setEntity(6, { position: { x: 1, y: 0, z: 0 } });
  h.pg.setEntity(5, { position: { x: 50, y: 0, z: 0 } });
  h.sent();
  const spec = ErrorCodes.PROTOCOL_INVALID_TRANSFORM;
  h.ws.serverSend(encodeError(spec.code, 'PROTOCOL_INVALID_TRANSFORM', 'too fast'));
  assert.deepEqual(
    h.sent().map((f) => f.op),
    [ClientOp.PING],
    'a barrier PING',
  );
  // PONG for the first PING (sent at join), then for the barrier.
  h.ws.serverSend(encodePong(0, 0));
  h.ws.serverSend(encodePong(0, 0));
  assert.equal(h.pg.entities.get(5)?.position.x, 50, 'no verdict before the next STATE');
  h.state({
    updates: [
      { id: 5, position: { x: 5, y: 0, z: 0 } },
      { id: 6, position: { x: 1, y: 0, z: 0 } },
    ],
  });
  assert.equal(h.pg.entities.get(5)?.position.x, 5, 'the refused move snapped back');
  assert.equal(h.pg.entities.get(6)?.position.x, 1, 'the accepted move stayed');
  assert.deepEqual(corrected, [5]);
  await h.pg.leave();
});

test('v3: moves carry seqs; a refused one snaps back on MOVE_ACK with no PING; accepted ones never snap', async () => {
  const h = await joined([box(5, ME), box(6, ME)], {}, 3);
  h.sent(); // the join's PING
  const corrected: number[] = [];
  h.pg.on('corrected', (e) => corrected.push(e.id));
  const errors: string[] = [];
  h.pg.on('error', (e) => errors.push(e.name));
  for (let i = 1; i <= 5; i++) h.pg.setEntity(5, { position: { x: i, y: 0, z: 0 } });
  h.pg.setEntity(5, { props: { color: 'blue' } });
  const moves = h.sent();
  assert.deepEqual(
    moves.map((f) => (f.op === ClientOp.SET_ENTITY ? f.seq : undefined)),
    [1, 2, 3, 4, 5, undefined],
    'each transform change carries the next seq; a props-only change none',
  );
  // Echoes lag; the acks settle the moves they cover.
  h.state({ updates: [{ id: 5, position: { x: 2.001, y: 0, z: 0 } }] });
  h.ws.serverSend(encodeMoveAck(2, []));
  h.state({ updates: [{ id: 5, position: { x: 5, y: 0, z: 0 } }] });
  h.ws.serverSend(encodeMoveAck(5, []));
  assert.equal(h.pg.entities.get(5)?.position.x, 5);
  assert.deepEqual(corrected, [], 'accepted moves never snap');

  h.pg.setEntity(6, { position: { x: 1, y: 0, z: 0 } });
  h.pg.setEntity(5, { position: { x: 50, y: 0, z: 0 } });
  assert.deepEqual(
    h.sent().map((f) => (f.op === ClientOp.SET_ENTITY ? [f.entityId, f.seq] : f.op)),
    [
      [6, 6],
      [5, 7],
    ],
  );
  const spec = ErrorCodes.PROTOCOL_INVALID_TRANSFORM;
  h.ws.serverSend(encodeError(spec.code, 'PROTOCOL_INVALID_TRANSFORM', 'too fast'));
  h.state({ updates: [{ id: 6, position: { x: 1, y: 0, z: 0 } }] });
  assert.equal(h.pg.entities.get(5)?.position.x, 50, 'no verdict before the ack');
  h.ws.serverSend(encodeMoveAck(6, [{ entityId: 5, seq: 7, code: spec.code }]));
  assert.equal(h.pg.entities.get(5)?.position.x, 5, 'the refused move snapped back');
  assert.equal(h.pg.entities.get(6)?.position.x, 1, 'the accepted move stayed');
  assert.deepEqual(corrected, [5]);
  assert.deepEqual(errors, ['PROTOCOL_INVALID_TRANSFORM']);
  assert.deepEqual(h.sent(), [], 'no barrier PING');
  // Moving on from the server's state works as before.
  h.pg.setEntity(5, { position: { x: 6, y: 0, z: 0 } });
  h.state({ updates: [{ id: 5, position: { x: 6, y: 0, z: 0 } }] });
  h.ws.serverSend(encodeMoveAck(8, []));
  assert.equal(h.pg.entities.get(5)?.position.x, 6);
  assert.deepEqual(corrected, [5]);
  await h.pg.leave();
});

test('the server moving an owned entity elsewhere is a correction', async () => {
  const h = await joined([box(5, ME)]);
  const corrected: number[] = [];
  h.pg.on('corrected', (e) => corrected.push(e.id));
  h.pg.setEntity(5, { position: { x: 1, y: 0, z: 0 } });
  h.state({ updates: [{ id: 5, position: { x: -7, y: 0, z: 0 }, props: { color: 'green' } }] });
  assert.equal(h.pg.entities.get(5)?.position.x, -7);
  assert.deepEqual(h.pg.entities.get(5)?.props, { color: 'green' });
  assert.deepEqual(corrected, [5]);
  await h.pg.leave();
});

test('sample() interpolates remote entities and returns predicted ones as they are locally', async () => {
  let now = 1000;
  const h = await joined([box(5, 0, 0), box(6, ME, 0)], { now: () => now, interpolationDelayMs: 100 });
  h.pg.setEntity(6, { position: { x: 9, y: 0, z: 0 } });
  now = 1050;
  h.state({ updates: [{ id: 5, position: { x: 10, y: 0, z: 0 } }] });
  const frame = h.pg.sample(1125);
  const five = frame.find((s) => s.id === 5);
  const six = frame.find((s) => s.id === 6);
  assert.equal(five?.position.x, 5);
  assert.equal(five?.predicted, false);
  assert.equal(six?.position.x, 9);
  assert.equal(six?.predicted, true);
  assert.deepEqual(
    frame.map((s) => s.id).sort((a, b) => a - b),
    [5, 6, SELF],
  );
  await h.pg.leave();
});

test('losing authority glides from the local state to the server state instead of jumping', async () => {
  let now = 1000;
  const h = await joined([box(5, ME, 0)], { now: () => now, interpolationDelayMs: 100 });
  h.pg.setEntity(5, { position: { x: 4, y: 0, z: 0 } });
  now = 1050;
  // Another client took it over (e.g. the server revoked and granted it) and moved it to 8.
  h.state({ updates: [{ id: 5, position: { x: 8, y: 0, z: 0 }, owner: 9 }] });
  assert.equal(h.pg.isOwner(5), false);
  const xs = [1050, 1075, 1100, 1125, 1150, 1200].map(
    (t) => h.pg.sample(t).find((s) => s.id === 5)?.position.x,
  );
  assert.equal(xs[0], 4, 'starts where it was drawn');
  assert.equal(xs.at(-1), 8, 'ends at the server state');
  for (let i = 1; i < xs.length; i++) assert.ok((xs[i] as number) >= (xs[i - 1] as number));
  await h.pg.leave();
});

test('custom messages: send encodes MESSAGE, server MESSAGEs become message events, limits throw', async () => {
  const h = await joined();
  const messages: unknown[] = [];
  h.pg.on('message', (m) => messages.push(m));
  assert.equal(h.pg.send('chat', { text: 'hi' }), true);
  assert.deepEqual(h.sent(), [{ op: ClientOp.MESSAGE, type: 'chat', payload: { text: 'hi' } }]);
  h.ws.serverSend(encodeServerMessage(7, 'chat', { text: 'hello' }));
  assert.deepEqual(messages, [{ from: 7, type: 'chat', payload: { text: 'hello' } }]);
  assert.throws(() => h.pg.send('', 1), { name: 'COMMON_BAD_REQUEST' });
  assert.throws(() => h.pg.send('x'.repeat(65), 1), { name: 'COMMON_BAD_REQUEST' });
  assert.throws(() => h.pg.send('big', 'x'.repeat(9000)), { name: 'COMMON_PAYLOAD_TOO_LARGE' });
  assert.deepEqual(h.sent(), []);
  await h.pg.leave();
});

test('requests pending when the connection ends resolve with CLIENT_CONNECTION_CLOSED', async () => {
  const h = await joined([box(5)]);
  const pending = h.pg.requestAuthority(5);
  h.ws.serverClose(1006, '');
  const outcome = await pending;
  assert.equal(!outcome.ok && outcome.error.name, 'CLIENT_CONNECTION_CLOSED');
  const after = await h.pg.requestAuthority(5);
  assert.equal(after.ok, false);
});

test('requests time out after resultTimeoutMs', async () => {
  const h = await joined([box(5)], { resultTimeoutMs: 20 });
  const outcome = await h.pg.requestAuthority(5);
  assert.equal(!outcome.ok && outcome.error.name, 'CLIENT_TIMEOUT');
  await h.pg.leave();
});
