import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { BackendEvents } from './backend-events.ts';
import { silentLogger } from './test-support.ts';

test('an event stream that goes silent (no ping, no message) is reopened', async () => {
  // A peer that accepts the stream and then never says anything: a half-open backend.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  let connections = 0;
  const second = new Promise<void>((resolve) => {
    wss.on('connection', () => {
      connections++;
      if (connections === 2) resolve();
    });
  });
  const events = new BackendEvents({
    backendUrl: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    partnerKey: 'unused-partner-key-123',
    logger: silentLogger(),
    onEvent: () => undefined,
    reconnectMinMs: 10,
    reconnectMaxMs: 20,
    silenceTimeoutMs: 200,
  });
  try {
    events.start();
    await second;
    assert.equal(connections, 2);
  } finally {
    await events.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
});

test('a stream whose peer keeps pinging stays open', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  let connections = 0;
  let pinger: NodeJS.Timeout | undefined;
  wss.on('connection', (ws) => {
    connections++;
    pinger = setInterval(() => ws.ping(), 50);
  });
  const events = new BackendEvents({
    backendUrl: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    partnerKey: 'unused-partner-key-123',
    logger: silentLogger(),
    onEvent: () => undefined,
    silenceTimeoutMs: 200,
  });
  try {
    events.start();
    await events.whenOpen();
    // Four silence windows of pings: the stream must still be the first one.
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(connections, 1);
    assert.ok(events.connected);
  } finally {
    clearInterval(pinger);
    await events.close();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
});
