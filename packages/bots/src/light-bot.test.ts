import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import {
  ClientOp,
  decodeClientFrame,
  type EntityState,
  encodeError,
  encodeState,
  encodeWelcome,
  PROTOCOL_VERSION,
} from '@plexus/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { LightBot } from './light-bot.ts';

const welcome = {
  protocolVersion: PROTOCOL_VERSION,
  clientId: 7,
  selfId: 30,
  playgroundId: 'pg',
  serverId: 'ds-1',
  tickRateHz: 20,
  serverTimeMs: 0,
};

const avatar = (id: number, x: number): EntityState => ({
  id,
  owner: 7,
  kind: 'avatar',
  position: { x, y: 0, z: 2 },
  rotation: { x: 0, y: 0, z: 0, w: 1 },
  props: {},
});

/** A server that answers HELLO with WELCOME and a keyframe, and hands each client socket to `onClient`. */
async function fakeServer(onClient: (ws: WebSocket, clientOps: number[]) => void): Promise<{
  url: string;
  close: () => Promise<void>;
}> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    const ops: number[] = [];
    ws.on('message', (data: Buffer) => {
      const frame = decodeClientFrame(new Uint8Array(data));
      ops.push(frame.op);
      if (frame.op === ClientOp.HELLO) onClient(ws, ops);
      if (frame.op === ClientOp.LEAVE) ws.close(1000);
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => wss.close(() => resolve())),
  };
}

const keyframe = encodeState({
  tick: 1,
  keyframe: true,
  spawns: [avatar(40, 5), avatar(30, 1)],
  updates: [],
  removes: [],
});

test('a light bot joins at its avatar, then counts every byte and reports ERROR frames without decoding the rest', async () => {
  let reported: (message: string) => void = () => {};
  const error = new Promise<string>((resolve) => {
    reported = resolve;
  });
  let sent = 0;
  let server: WebSocket | undefined;
  const srv = await fakeServer((ws) => {
    server = ws;
    for (const frame of [encodeWelcome(welcome, PROTOCOL_VERSION), keyframe]) {
      ws.send(frame);
      sent += frame.length;
    }
  });
  try {
    const bot = new LightBot(srv.url, 'ticket', 5000, { error: (m) => reported(m), lost: () => {} });
    assert.deepEqual(await bot.joined, { x: 1, z: 2 });
    assert.equal(bot.entityId, 30);
    const errorFrame = encodeError(4001, 'PROTOCOL_RATE_LIMITED', 'slow down');
    // A frame that does not decode: after the join only its bytes count.
    const junk = Uint8Array.of(0xfe, 1, 2, 3);
    server?.send(junk);
    server?.send(errorFrame);
    assert.equal(await error, 'PROTOCOL_RATE_LIMITED: slow down');
    assert.equal(bot.bytes, sent + junk.length + errorFrame.length);
    await bot.leave();
  } finally {
    await srv.close();
  }
});

test('a light bot sends MOVE frames and leaves with LEAVE', async () => {
  let ops: number[] = [];
  const srv = await fakeServer((ws, clientOps) => {
    ops = clientOps;
    ws.send(encodeWelcome(welcome, PROTOCOL_VERSION));
    ws.send(keyframe);
  });
  try {
    let lost = 0;
    const bot = new LightBot(srv.url, 'ticket', 5000, { error: () => {}, lost: () => lost++ });
    await bot.joined;
    bot.move({ x: 1.5, y: 0, z: 2 }, { x: 0, y: 0, z: 0, w: 1 });
    await bot.leave();
    assert.deepEqual(ops, [ClientOp.HELLO, ClientOp.MOVE, ClientOp.LEAVE]);
    assert.equal(lost, 1, 'the close after the join is reported');
  } finally {
    await srv.close();
  }
});

test('a light bot fails its join on an ERROR before the welcome keyframe', async () => {
  const srv = await fakeServer((ws) => ws.send(encodeError(4003, 'JOIN_TICKET_INVALID', 'bad ticket')));
  try {
    const bot = new LightBot(srv.url, 'ticket', 5000, { error: () => {}, lost: () => {} });
    await assert.rejects(bot.joined, /JOIN_TICKET_INVALID: bad ticket/);
  } finally {
    await srv.close();
  }
});
