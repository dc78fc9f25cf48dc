import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ClientOp,
  decodeClientFrame,
  type EndpointGrant,
  type EntityState,
  ErrorCodes,
  encodeError,
  encodePong,
  encodeState,
  encodeWelcome,
  PROTOCOL_VERSION,
} from '@plexus/protocol';
import { PlexusError } from './errors.ts';
import { connectPlayground, type Playground } from './playground.ts';
import type { DisconnectInfo } from './playground-types.ts';
import { FakeWebSocket } from './test-support.ts';

const Q = { x: 0, y: 0, z: 0, w: 1 };
const grant: EndpointGrant = {
  endpoint: 'ws://ds.test/ws',
  ticket: 'ticket-123',
  serverId: 'ds-1',
  playgroundId: 'lobby',
  expiresAt: new Date().toISOString(),
};
const welcome = {
  protocolVersion: PROTOCOL_VERSION,
  clientId: 3,
  selfId: 30,
  playgroundId: 'lobby',
  serverId: 'ds-1',
  tickRateHz: 20,
  serverTimeMs: 0,
};

function avatar(id: number, x: number): EntityState {
  return {
    id,
    owner: id / 10,
    kind: 'avatar',
    position: { x, y: 0, z: 0 },
    rotation: Q,
    props: { displayName: `n${id}` },
  };
}

function open(options = {}) {
  const promise = connectPlayground(grant, { WebSocket: FakeWebSocket, pingIntervalMs: 60_000, ...options });
  const ws = FakeWebSocket.last as FakeWebSocket;
  return { promise, ws };
}

async function joined(): Promise<{ pg: Playground; ws: FakeWebSocket }> {
  const { promise, ws } = open();
  ws.serverOpen();
  ws.serverSend(encodeWelcome(welcome));
  ws.serverSend(
    encodeState({
      tick: 1,
      keyframe: true,
      spawns: [avatar(30, 0), avatar(40, 5)],
      updates: [],
      removes: [],
    }),
  );
  return { pg: await promise, ws };
}

function nextDisconnect(pg: Playground): Promise<DisconnectInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no disconnected event')), 2000);
    pg.on('disconnected', (info) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}

test('join sends HELLO with the version and ticket, and resolves after WELCOME and the first keyframe', async () => {
  const { promise, ws } = open();
  let resolved = false;
  void promise.then(() => {
    resolved = true;
  });
  ws.serverOpen();
  assert.equal(ws.binaryType, 'arraybuffer');
  const hello = decodeClientFrame(ws.sent[0] as Uint8Array);
  assert.deepEqual(hello, { op: ClientOp.HELLO, protocolVersion: PROTOCOL_VERSION, ticket: 'ticket-123' });
  ws.serverSend(encodeWelcome(welcome));
  await Promise.resolve();
  assert.equal(resolved, false);
  ws.serverSend(
    encodeState({
      tick: 1,
      keyframe: true,
      spawns: [avatar(30, 0), avatar(40, 5)],
      updates: [],
      removes: [],
    }),
  );
  const pg = await promise;
  assert.equal(pg.selfId, 30);
  assert.equal(pg.clientId, 3);
  assert.equal(pg.playgroundId, 'lobby');
  assert.equal(pg.serverId, 'ds-1');
  assert.equal(pg.tickRateHz, 20);
  assert.deepEqual([...pg.entities.keys()], [30, 40]);
  assert.equal(pg.self?.props.displayName, 'n30');
  // A first PING goes out with WELCOME so the RTT is known early.
  assert.deepEqual(ws.sentOps(), [ClientOp.HELLO, ClientOp.PING]);
  await pg.leave();
});

test('join rejects with the PlexusError of an ERROR frame received before the welcome', async () => {
  const { promise, ws } = open();
  ws.serverOpen();
  const spec = ErrorCodes.PROTOCOL_TICKET_REPLAYED;
  ws.serverSend(encodeError(spec.code, 'PROTOCOL_TICKET_REPLAYED', spec.message));
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof PlexusError);
    assert.equal(err.name, 'PROTOCOL_TICKET_REPLAYED');
    assert.equal(err.status, 401);
    return true;
  });
  assert.ok(ws.closedWith);
});

test('join rejects when the socket closes first, and after the timeout', async () => {
  const first = open();
  first.ws.serverClose(1006, '');
  await assert.rejects(first.promise, { name: 'CLIENT_CONNECTION_CLOSED' });

  const second = open({ joinTimeoutMs: 20 });
  second.ws.serverOpen();
  await assert.rejects(second.promise, { name: 'CLIENT_TIMEOUT' });
  assert.equal(second.ws.closedWith?.code, 1000);
});

test('a malformed frame closes with 4000 and emits disconnected with PROTOCOL_MALFORMED_FRAME', async () => {
  const { pg, ws } = await joined();
  const disconnected = nextDisconnect(pg);
  ws.serverSend(Uint8Array.of(0x82, 0x01));
  const info = await disconnected;
  assert.equal(info.code, 4000);
  assert.equal(ws.closedWith?.code, 4000);
  assert.ok(info.error instanceof PlexusError);
  assert.equal(info.error.name, 'PROTOCOL_MALFORMED_FRAME');
  assert.equal(pg.connected, false);
});

test('deltas become entity events and remote transforms are interpolated in the past', async () => {
  let now = 1000;
  const { promise, ws } = open({ now: () => now, interpolationDelayMs: 100 });
  ws.serverOpen();
  ws.serverSend(encodeWelcome(welcome));
  ws.serverSend(
    encodeState({
      tick: 20,
      keyframe: true,
      spawns: [avatar(30, 0), avatar(40, 0)],
      updates: [],
      removes: [],
    }),
  );
  const pg = await promise;
  const events: string[] = [];
  pg.on('entityAdded', (e) => events.push(`added:${e.id}`));
  pg.on('entityChanged', (e, fields) => events.push(`changed:${e.id}:${fields.join(',')}`));
  pg.on('entityRemoved', (e) => events.push(`removed:${e.id}`));

  now = 1050;
  ws.serverSend(
    encodeState({
      tick: 21,
      keyframe: false,
      spawns: [avatar(50, 1)],
      updates: [{ id: 40, position: { x: 10, y: 0, z: 0 } }],
      removes: [],
    }),
  );
  assert.deepEqual(events, ['added:50', 'changed:40:position']);
  assert.equal(pg.entities.get(40)?.position.x, 10);
  // Halfway between tick 20 (x=0, t=1000) and tick 21 (x=10, t=1050), 100 ms in the past.
  assert.equal(pg.sampleTransform(40, 1125)?.position.x, 5);
  assert.equal(pg.sampleTransform(40, 2000)?.position.x, 10);
  assert.equal(pg.sampleTransform(999), undefined);

  ws.serverSend(encodeState({ tick: 22, keyframe: false, spawns: [], updates: [], removes: [50] }));
  assert.deepEqual(events.at(-1), 'removed:50');
  await pg.leave();
});

test('move predicts the own avatar and sends MOVE; PONG sets the RTT; non-fatal errors are events', async () => {
  const { pg, ws } = await joined();
  const changed: string[] = [];
  pg.on('entityChanged', (e, fields) => changed.push(`${e.id}:${fields.join(',')}`));
  const position = { x: 1, y: 0, z: 2 };
  assert.equal(pg.move({ position }), true);
  assert.deepEqual(pg.self?.position, position);
  assert.deepEqual(pg.sampleTransform(pg.selfId)?.position, position);
  assert.deepEqual(changed, ['30:position']);
  const move = decodeClientFrame(ws.sent.at(-1) as Uint8Array);
  assert.deepEqual(move, { op: ClientOp.MOVE, entityId: 30, position, rotation: Q });

  // Another move; the server's late echo of the first does not pull the avatar back.
  const further = { x: 2, y: 0, z: 2 };
  pg.move({ position: further });
  ws.serverSend(
    encodeState({ tick: 2, keyframe: false, spawns: [], updates: [{ id: 30, position }], removes: [] }),
  );
  assert.deepEqual(pg.self?.position, further);

  const ping = decodeClientFrame(ws.sent[1] as Uint8Array);
  assert.equal(ping.op, ClientOp.PING);
  ws.serverSend(encodePong(performance.now() - 42, 0));
  assert.ok((pg.rttMs ?? 0) >= 42);

  const errors: PlexusError[] = [];
  const corrected: number[] = [];
  pg.on('error', (e) => errors.push(e));
  pg.on('corrected', (e) => corrected.push(e.id));
  const spec = ErrorCodes.PROTOCOL_INVALID_TRANSFORM;
  ws.serverSend(encodeError(spec.code, 'PROTOCOL_INVALID_TRANSFORM', 'too fast'));
  assert.equal(errors[0]?.name, 'PROTOCOL_INVALID_TRANSFORM');
  assert.equal(pg.connected, true);
  // The SDK sends a PING as a barrier; once answered, the next STATE is the verdict: the server
  // is still at the first position, so the refused move snaps back to it.
  assert.equal(ws.sentOps().at(-1), ClientOp.PING);
  assert.deepEqual(pg.self?.position, further);
  ws.serverSend(encodePong(performance.now(), 0));
  ws.serverSend(encodeState({ tick: 3, keyframe: false, spawns: [], updates: [], removes: [] }));
  assert.deepEqual(pg.self?.position, position);
  assert.deepEqual(corrected, [30]);
  await pg.leave();
});

test('a fatal ERROR frame is reported with the close that follows it', async () => {
  const { pg, ws } = await joined();
  const disconnected = nextDisconnect(pg);
  const spec = ErrorCodes.PROTOCOL_SHUTTING_DOWN;
  ws.serverSend(encodeError(spec.code, 'PROTOCOL_SHUTTING_DOWN', spec.message));
  ws.serverClose(4010, 'shutting down');
  const info = await disconnected;
  assert.equal(info.code, 4010);
  assert.equal(info.error?.name, 'PROTOCOL_SHUTTING_DOWN');
});

test('leave sends LEAVE, resolves when the server closes, and emits a clean disconnected', async () => {
  const { pg, ws } = await joined();
  const disconnected = nextDisconnect(pg);
  await pg.leave();
  assert.equal(ws.sentOps().at(-1), ClientOp.LEAVE);
  assert.equal(ws.closedWith, undefined);
  assert.deepEqual(await disconnected, { code: 1000, reason: 'left' });
  assert.equal(pg.move({ position: { x: 0, y: 0, z: 0 } }), false);
});

test('leave closes the socket itself when the server does not', async () => {
  const { promise, ws } = open({ leaveTimeoutMs: 20 });
  ws.serverOpen();
  ws.serverSend(encodeWelcome(welcome));
  ws.serverSend(encodeState({ tick: 1, keyframe: true, spawns: [avatar(30, 0)], updates: [], removes: [] }));
  const pg = await promise;
  ws.closeOnLeave = false;
  await pg.leave();
  assert.equal(ws.closedWith?.code, 1000);
  assert.equal(pg.connected, false);
});
