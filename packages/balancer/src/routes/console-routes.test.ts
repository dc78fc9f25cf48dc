import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AppError } from '@plexus/kit';
import { CONSOLE_STREAM_PATH, type ConsoleSnapshot } from '@plexus/protocol';
import { type BalancerApp, CONSOLE_MAX_STREAMS, createBalancerApp } from '../app.ts';
import type { BackendClient, ForwardRequest } from '../backend-client.ts';
import { silentLogger, testConfig, within } from '../test-support.ts';

const OPERATOR_KEY = 'console-test-operator-key';
const apps: BalancerApp[] = [];
after(async () => {
  for (const b of apps) await b.app.close();
});

async function listening(forwarded: ForwardRequest[] = []) {
  const backend: BackendClient = {
    getUserBySessionId: async () => {
      throw new AppError('AUTH_INVALID_SESSION');
    },
    getUsersByIds: async () => [],
    findPlayground: async () => 'lobby',
    joinPlayground: async (_u, p) => p,
    getPlayerRecord: async () => null,
    partnerRpc: async () => ({ ok: true, data: {} }),
    forwardRpc: async (req) => {
      forwarded.push(req);
      return { status: 200, body: '{"data":{"closed":true},"error":{"status":false,"code":0,"message":""}}' };
    },
  };
  const b = await createBalancerApp({
    config: testConfig({ operatorKey: OPERATOR_KEY }),
    logger: silentLogger(),
    backend,
    events: false,
  });
  apps.push(b);
  const url = await b.app.listen({ port: 0, host: '127.0.0.1' });
  return { b, url };
}

const identity = (serverId: string) => ({
  serverId,
  endpoint: `ws://127.0.0.1:9100/${serverId}`,
  capacity: 50,
  version: '0.1.0',
  protocolVersion: 1,
});

/** Reads server-sent events from a fetch response; `next` resolves with the next event of a type. */
function sseReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async function next(type: string): Promise<unknown> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event === type && data !== undefined) return JSON.parse(data);
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

test('the console stream refuses a missing or wrong operator key with 401 OPERATOR_KEY_REQUIRED', async () => {
  const { url } = await listening();
  for (const headers of [
    {},
    { authorization: 'Bearer not-the-operator-key' },
    { authorization: OPERATOR_KEY },
  ]) {
    const res = await fetch(`${url}${CONSOLE_STREAM_PATH}`, { headers });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, 2006);
  }
  // The key is never accepted from the query string.
  const inUrl = await fetch(`${url}${CONSOLE_STREAM_PATH}?key=${OPERATOR_KEY}`);
  assert.equal(inUrl.status, 401);
});

test('the console stream pushes every server with its figures and shows a drain without being asked', async () => {
  const { b, url } = await listening();
  await b.store.register(identity('ds-a'), []);
  await b.store.report(identity('ds-a'), {
    players: 3,
    playgrounds: [{ playgroundId: 'hall', players: 3, epoch: 7, checkpointAgeMs: 420 }],
    cpu: 0.1,
    tickMs: 1.5,
    tickP50Ms: 1.2,
    tickP99Ms: 4.5,
    bytesOutPerSec: 12_000,
    checkpointLagMs: 420,
  });
  await b.store.register(identity('ds-b'), []);
  const controller = new AbortController();
  const res = await fetch(`${url}${CONSOLE_STREAM_PATH}`, {
    headers: { authorization: `Bearer ${OPERATOR_KEY}` },
    signal: controller.signal,
  });
  try {
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const next = sseReader(res);
    const first = (await within(next('snapshot'), 5_000, 'first snapshot')) as ConsoleSnapshot;
    assert.deepEqual(
      first.servers.map((s) => [s.serverId, s.state]),
      [
        ['ds-a', 'ready'],
        ['ds-b', 'ready'],
      ],
    );
    const a = first.servers[0];
    assert.equal(a?.players, 3);
    assert.equal(a?.capacity, 50);
    assert.equal(a?.tickP50Ms, 1.2);
    assert.equal(a?.tickP99Ms, 4.5);
    assert.equal(a?.bytesOutPerSec, 12_000);
    assert.equal(a?.checkpointLagMs, 420);
    assert.deepEqual(first.playgrounds, [
      { playgroundId: 'hall', players: 3, serverId: 'ds-a', epoch: 7, checkpointAgeMs: 420 },
    ]);
    assert.deepEqual(first.balancers, [{ lbId: b.lbId, servers: 2, players: 3, self: true }]);

    const drain = await fetch(`${url}/lb/api/v0/admin/servers/ds-b/drain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_KEY}` },
    });
    assert.equal(drain.status, 202);
    for (;;) {
      const snap = (await within(
        next('snapshot'),
        5_000,
        'a snapshot with ds-b draining',
      )) as ConsoleSnapshot;
      if (snap.servers.find((s) => s.serverId === 'ds-b')?.state === 'draining') break;
    }
  } finally {
    controller.abort();
  }
});

test(`at most ${CONSOLE_MAX_STREAMS} console streams: the next is 503 LB_CONSOLE_STREAMS_FULL`, async () => {
  const { url } = await listening();
  const controller = new AbortController();
  const open = (): Promise<Response> =>
    fetch(`${url}${CONSOLE_STREAM_PATH}`, {
      headers: { authorization: `Bearer ${OPERATOR_KEY}` },
      signal: controller.signal,
    });
  try {
    const streams = await Promise.all(Array.from({ length: CONSOLE_MAX_STREAMS }, open));
    assert.ok(streams.every((r) => r.status === 200));
    const extra = await open();
    assert.equal(extra.status, 503);
    assert.equal(((await extra.json()) as { error: { code: number } }).error.code, 4300);
  } finally {
    controller.abort();
  }
});

test('the console proxy forwards only its operator RPCs, with the key, after checking it', async () => {
  const forwarded: ForwardRequest[] = [];
  const { b } = await listening(forwarded);
  const call = (method: string, authorization?: string) =>
    b.app.inject({
      method: 'POST',
      url: `/lb/api/v0/admin/operatorRpc/${method}`,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      payload: '{"id":"hall"}',
    });
  const refused = await call('playgrounds.close', 'Bearer wrong-key-0123456789');
  assert.equal(refused.statusCode, 401);
  assert.equal(refused.json().error.code, 2006);
  const unknown = await call('playgrounds.create', `Bearer ${OPERATOR_KEY}`);
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 4301);
  assert.deepEqual(forwarded, []);

  const closed = await call('playgrounds.close', `Bearer ${OPERATOR_KEY}`);
  assert.equal(closed.statusCode, 200);
  assert.deepEqual(closed.json().data, { closed: true });
  assert.deepEqual(forwarded, [
    {
      method: 'playgrounds.close',
      prefix: '/api/v0/operatorRpc/',
      body: '{"id":"hall"}',
      authorization: `Bearer ${OPERATOR_KEY}`,
      forwardedFor: '127.0.0.1',
    },
  ]);
});
