import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogger, createMetrics, type Metrics } from '@plexus/kit';
import {
  EVENT_STREAM_PATH,
  type EventStreamMessage,
  type EventsPublishResult,
  type PlexusEventEnvelope,
} from '@plexus/protocol';
import { waitFor } from '@plexus/testkit';
import { WebSocket } from 'ws';
import { loadBackendConfig } from '../config.ts';
import { createContinuityMetrics } from '../services/continuity-metrics.ts';
import { startBackend } from '../start.ts';
import { OPERATOR_KEY, PARTNER_KEY } from '../test-support.ts';
import { EventStream } from './event-stream.ts';

const dir = mkdtempSync(join(tmpdir(), 'plexus-event-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const silent = createLogger({ component: 'backend', level: 'silent' });

/** A stream client that records every message, like a balancer. */
async function listen(url: string, key = PARTNER_KEY) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${EVENT_STREAM_PATH}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const received: PlexusEventEnvelope[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as EventStreamMessage;
    assert.equal(message.type, 'event');
    received.push(message.event);
  });
  await once(ws, 'open');
  return { ws, received };
}

/** The HTTP status with which an upgrade was refused, or the error when the socket was dropped. */
function refusal(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: 'Bearer wrong-key-wrong-key' } });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => resolve('open'));
    ws.on('error', (err) => resolve(err.message));
  });
}

async function rpc<T>(url: string, path: string, key: string, body: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { data: T }).data;
}

test('every connected balancer receives live events from a listening backend, and is closed with it', async () => {
  const config = loadBackendConfig({ PLEXUS_DATA_DIR: join(dir, 'live') }, { port: 0 });
  const handle = await startBackend(config, { logger: silent });
  const operatorPublish = (body: unknown) =>
    rpc<EventsPublishResult>(handle.url, '/api/v0/operatorRpc/events.publish', OPERATOR_KEY, body);
  const partner = <T>(method: string, body: unknown) =>
    rpc<T>(handle.url, `/api/v0/partnerRpc/${method}`, PARTNER_KEY, body);
  const a = await listen(handle.url);
  const b = await listen(handle.url);
  try {
    const wsUrl = handle.url.replace(/^http/, 'ws');
    assert.equal(await refusal(`${wsUrl}${EVENT_STREAM_PATH}`), 401);
    assert.match(String(await refusal(`${wsUrl}/api/v0/partner/other`)), /socket hang up|ECONNRESET/);

    const all = await operatorPublish({
      target: { all: true },
      type: 'announce',
      payload: { text: 'maintenance' },
    });
    assert.equal(all.delivery, 'live');
    await waitFor(() => a.received.length === 1 && b.received.length === 1, {
      what: 'the event on both streams',
    });
    assert.deepEqual(a.received[0], {
      id: all.id,
      target: { all: true },
      type: 'announce',
      payload: { text: 'maintenance' },
      from: { kind: 'operator' },
      at: a.received[0]?.at,
    });
    assert.ok(Math.abs(Number(a.received[0]?.at) - Date.now()) < 60_000);
    assert.deepEqual(b.received[0], a.received[0]);

    // A user who is present gets a server's message live; an offline one's is stored, not streamed.
    await partner('players.join', { serverId: 'ds-1', userId: 'ada', playgroundId: 'pg-1' });
    const dm = await partner<EventsPublishResult>('events.publish', {
      serverId: 'ds-2',
      target: { userId: 'ada' },
      type: 'chat:dm',
      payload: 'hi ada',
      fromUserId: 'bob',
    });
    assert.equal(dm.delivery, 'live');
    const offline = await operatorPublish({ target: { userId: 'zed' }, type: 'note', payload: 1 });
    assert.equal(offline.delivery, 'stored');
    const last = await operatorPublish({ target: { playgroundId: 'pg-1' }, type: 'note', payload: 2 });
    await waitFor(() => a.received.length === 3, { what: 'two more events' });
    assert.deepEqual(
      a.received.map((e) => e.id),
      [all.id, dm.id, last.id],
    );
    assert.deepEqual(a.received[1]?.from, { kind: 'server', serverId: 'ds-2', userId: 'bob' });
  } finally {
    const closed = Promise.all([once(a.ws, 'close'), once(b.ws, 'close')]);
    await handle.close();
    const codes = (await closed).map(([code]) => code);
    assert.deepEqual(codes, [1001, 1001]);
  }
});

async function streamServer(options: { maxBufferedBytes?: number; pingIntervalMs?: number }) {
  const metrics: Metrics = createMetrics('backend');
  const stream = new EventStream({
    partnerKey: PARTNER_KEY,
    metrics: createContinuityMetrics(metrics),
    logger: silent,
    ...options,
  });
  const server: Server = createServer();
  stream.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    stream,
    metrics,
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await stream.close();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A balancer that completes the upgrade and then never reads again (nor answers pings). */
async function stuckClient(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `GET ${EVENT_STREAM_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      `Authorization: Bearer ${PARTNER_KEY}\r\n\r\n`,
  );
  const [head] = (await once(socket, 'data')) as [Buffer];
  assert.match(head.toString('latin1'), /^HTTP\/1\.1 101 /);
  socket.pause();
  return socket;
}

test("a backed-up balancer's events are dropped while a reading one gets them all", async () => {
  const s = await streamServer({ maxBufferedBytes: 64 * 1024 });
  const stuck = await stuckClient(s.port);
  const healthy = await listen(s.url);
  try {
    await waitFor(() => s.stream.size === 2, { what: 'two stream clients' });
    const dropped = async () =>
      (await s.metrics.registry.getSingleMetric('plexus_backend_event_stream_dropped_total')?.get())
        ?.values[0]?.value ?? 0;
    const payload = 'x'.repeat(8 * 1024);
    let sent = 0;
    // Bounded: 40 MiB is far more than loopback socket buffers hold.
    while ((await dropped()) === 0 && sent < 5_000) {
      for (let i = 0; i < 16; i++) {
        s.stream.broadcast({
          id: `ev_${sent}`,
          target: { all: true },
          type: 'fill',
          payload,
          from: { kind: 'operator' },
          at: sent,
        });
        sent += 1;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok((await dropped()) > 0, `no drop after ${sent} events`);
    await waitFor(() => healthy.received.length === sent, {
      timeoutMs: 20_000,
      what: 'every event on the reading client',
    });
    assert.deepEqual(
      healthy.received.map((e) => e.at),
      Array.from({ length: sent }, (_, i) => i),
    );
  } finally {
    stuck.destroy();
    healthy.ws.close();
    await s.close();
  }
});

test('a balancer that stops answering pings is cut off; one that answers stays', async () => {
  const s = await streamServer({ pingIntervalMs: 50 });
  const stuck = await stuckClient(s.port);
  const healthy = await listen(s.url);
  try {
    // Both are registered once their upgrade is answered; the silent one goes after two intervals.
    await once(stuck.resume(), 'close');
    await waitFor(() => s.stream.size === 1, { what: 'the server to forget the silent client' });
    assert.equal(healthy.ws.readyState, WebSocket.OPEN);
  } finally {
    stuck.destroy();
    healthy.ws.close();
    await s.close();
  }
});
