import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { COPY_LIMIT_BYTES, frameBinary, frameHeader, sharedFrame, writeSharedFrame } from './ws-frame.ts';

test('frame headers: 2 bytes up to 125, 4 bytes up to 65 535, then 10 (RFC 6455 §5.2)', () => {
  assert.equal(frameBinary(new Uint8Array([7])).toString('hex'), '820107');
  assert.equal(frameBinary(new Uint8Array(126)).subarray(0, 4).toString('hex'), '827e007e');
  assert.equal(frameBinary(new Uint8Array(65_536)).subarray(0, 10).toString('hex'), '827f0000000000010000');
});

test('one payload is framed once for consecutive sends', () => {
  const payload = new Uint8Array([1, 2, 3]);
  assert.equal(sharedFrame(payload), sharedFrame(payload));
  assert.notEqual(sharedFrame(new Uint8Array([1, 2, 3])), sharedFrame(payload));
});

test('a large payload is not copied: its shared frame is the header alone', () => {
  const payload = new Uint8Array(COPY_LIMIT_BYTES);
  assert.equal(sharedFrame(payload), sharedFrame(payload));
  assert.equal(sharedFrame(payload).toString('hex'), frameHeader(COPY_LIMIT_BYTES).toString('hex'));
  assert.equal(sharedFrame(new Uint8Array(COPY_LIMIT_BYTES - 1)).length, 4 + COPY_LIMIT_BYTES - 1);
});

test('a client receiving a pre-framed payload gets byte-identical messages to a per-client ws send', async () => {
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const payloads = [
    0,
    1,
    125,
    126,
    1_000,
    COPY_LIMIT_BYTES - 1,
    COPY_LIMIT_BYTES,
    65_535,
    65_536,
    200_000,
  ].map((n) => {
    const p = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) p[i] = (i * 31 + n) & 0xff;
    return p;
  });
  http.on('upgrade', (req, socket: Duplex, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Each payload twice, as ws frames it and as the server's shared frame, interleaved.
      for (const p of payloads) {
        ws.send(p);
        writeSharedFrame(socket, p);
      }
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const got: { data: Buffer; binary: boolean }[] = [];
  const all = new Promise<void>((resolve) => {
    client.on('message', (data, binary) => {
      got.push({ data: data as Buffer, binary });
      if (got.length === payloads.length * 2) resolve();
    });
  });
  try {
    await all;
    for (const [i, p] of payloads.entries()) {
      const viaWs = got[2 * i];
      const shared = got[2 * i + 1];
      assert.ok(viaWs && shared);
      assert.equal(shared.binary, true);
      assert.ok(shared.data.equals(viaWs.data), `payload of ${p.length} bytes`);
      assert.ok(shared.data.equals(p));
    }
  } finally {
    client.terminate();
    wss.close();
    http.close();
  }
});
