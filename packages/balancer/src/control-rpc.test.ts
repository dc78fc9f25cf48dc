import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadBackendConfig, startBackend } from '@plexus/backend';
import { DEV_SECRETS } from '@plexus/kit';
import { HttpPaths, type PlexusEventEnvelope } from '@plexus/protocol';
import { MAX_RPCS_IN_FLIGHT } from './control-rpc.ts';
import { type BalancerHandle, startBalancer } from './start.ts';
import { type ControlClient, registeredClient, silentLogger, testConfig, within } from './test-support.ts';

// The real backend, in process: control RPCs are forwarded to its partner RPCs.
const dataDir = mkdtempSync(join(tmpdir(), 'plexus-lb-rpc-'));
let backend: Awaited<ReturnType<typeof startBackend>>;
let lb: BalancerHandle;
const clients: ControlClient[] = [];

before(async () => {
  backend = await startBackend(loadBackendConfig({}, { port: 0, dataDir }), { logger: silentLogger() });
  lb = await startBalancer(testConfig({ backendUrl: backend.url }), { logger: silentLogger() });
  await within(
    lb.balancer.events?.whenOpen() ?? Promise.reject(new Error('no event stream')),
    5_000,
    'event stream',
  );
});

after(async () => {
  for (const c of clients) await c.close();
  await lb?.close();
  await backend?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function server(serverId: string, overrides: Record<string, unknown> = {}): Promise<ControlClient> {
  const client = await registeredClient(lb.url, serverId, overrides);
  clients.push(client);
  return client;
}

async function operatorPublish(body: Record<string, unknown>) {
  const res = await fetch(`${backend.url}${HttpPaths.operatorRpcPrefix}events.publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DEV_SECRETS.operatorKey}` },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
}

test('a backend RPC is forwarded with the socket’s server id, whatever the params say', async () => {
  const owner = await server('ds-rpc-owner');
  const other = await server('ds-rpc-other');
  const claim = await owner.rpc(1, 'checkpoints.claim', {
    playgroundId: 'cp-room',
    serverId: 'ds-rpc-other',
  });
  assert.equal(claim.error, undefined, JSON.stringify(claim.error));
  const { epoch } = claim.data as { epoch: number; checkpoint: unknown };
  assert.ok(epoch >= 1);
  const state = { type: 'lobby', nextEntityId: 1, entities: [], avatars: [] };
  // The holder is ds-rpc-owner (the id in the params was overwritten): its write is accepted …
  const written = await owner.rpc(2, 'checkpoints.write', {
    playgroundId: 'cp-room',
    epoch,
    version: 1,
    state,
    serverId: 'ds-rpc-other',
  });
  assert.deepEqual(written.data, { epoch, version: 1 });
  // … and another server cannot write for it, even naming the holder: the backend's 409 is relayed.
  const stale = await other.rpc(3, 'checkpoints.write', {
    playgroundId: 'cp-room',
    epoch,
    version: 2,
    state,
    serverId: 'ds-rpc-owner',
  });
  assert.deepEqual(stale.error, {
    status: 409,
    code: 3150,
    message: stale.error?.message,
  });
  // Backend validation errors come back as they are.
  const bad = await owner.rpc(4, 'checkpoints.claim', { playgroundId: 'has space' });
  assert.equal(bad.error?.code, 1000);
  assert.equal(bad.error?.status, 400);
});

test('an unknown method or a duplicate id is answered with an error; the channel stays open', async () => {
  const client = await server('ds-rpc-unknown');
  const unknown = await client.rpc(7, 'players.teleport', {});
  assert.equal(unknown.error?.code, 1000);
  assert.match(String(unknown.error?.message), /Unknown control method/);
  const ok = await client.rpc(8, 'analytics.record', { events: [] });
  assert.deepEqual(ok.data, { accepted: 0 });
  // The second request with an id still in flight is refused at once; the first one completes.
  client.send({ type: 'rpc', id: 9, method: 'analytics.record', params: { events: [] } });
  client.send({ type: 'rpc', id: 9, method: 'analytics.record', params: { events: [] } });
  const isResult9 = (m: unknown) =>
    (m as { type: string; id?: number }).type === 'rpcResult' && (m as { id: number }).id === 9;
  const first = (await client.nextMatching(isResult9)) as { error?: { message: string } };
  assert.match(String(first.error?.message), /already in flight/);
  const second = (await client.nextMatching(isResult9)) as { data?: unknown };
  assert.deepEqual(second.data, { accepted: 0 });
});

test('a malformed rpc (bad id, params not an object) closes the channel like any bad message', async () => {
  for (const malformed of [
    { type: 'rpc', id: 0, method: 'analytics.record', params: {} },
    { type: 'rpc', id: 1, method: 'analytics.record', params: [1, 2] },
  ]) {
    const client = await server('ds-rpc-malformed');
    client.send(malformed);
    assert.equal((await client.nextOfType('error')).code, 1000);
    assert.equal((await within(client.closed)).code, 4000);
  }
});

test('events.publish from a server reaches every server in the order it was published', async () => {
  const publisher = await server('ds-pub');
  const listener = await server('ds-listen');
  const count = 20;
  for (let i = 1; i <= count; i++) {
    publisher.send({
      type: 'rpc',
      id: 100 + i,
      method: 'events.publish',
      params: { target: { all: true }, type: 'chat.line', payload: { seq: i } },
    });
  }
  for (const client of [listener, publisher]) {
    const seen: number[] = [];
    while (seen.length < count) {
      const { event } = (await client.nextOfType('event', 5_000)) as { event: PlexusEventEnvelope };
      assert.deepEqual(event.from, { kind: 'server', serverId: 'ds-pub' });
      seen.push((event.payload as { seq: number }).seq);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: count }, (_, i) => i + 1),
    );
  }
  for (let i = 1; i <= count; i++) {
    const result = (await publisher.nextMatching(
      (m) =>
        (m as { type: string; id?: number }).type === 'rpcResult' && (m as { id: number }).id === 100 + i,
    )) as { data: { delivery: string } };
    assert.equal(result.data.delivery, 'live');
  }
});

test('a playground event reaches only the server hosting the playground', async () => {
  const host = await server('ds-host', { playgrounds: [{ playgroundId: 'stage', players: 1 }] });
  const bystander = await server('ds-bystander');
  await operatorPublish({ target: { playgroundId: 'stage' }, type: 'show.start', payload: { act: 1 } });
  const { event } = (await host.nextOfType('event', 5_000)) as { event: PlexusEventEnvelope };
  assert.deepEqual(event.target, { playgroundId: 'stage' });
  assert.deepEqual(event.from, { kind: 'operator' });
  // The bystander gets the next broadcast, but never the playground event.
  await operatorPublish({ target: { all: true }, type: 'show.end', payload: {} });
  const next = (await bystander.nextOfType('event', 5_000)) as { event: PlexusEventEnvelope };
  assert.equal(next.event.type, 'show.end');
});

test('a backend that does not answer: every RPC ends with LB_BACKEND_UNAVAILABLE, the excess at once with LB_RPC_BUSY', async () => {
  // A real TCP server that accepts connections and never answers.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  const stuck = await startBalancer(
    testConfig({ backendUrl: `http://127.0.0.1:${port}`, backendTimeoutMs: 500 }),
    {
      logger: silentLogger(),
      events: false,
    },
  );
  try {
    const client = await registeredClient(stuck.url, 'ds-stuck');
    const started = Date.now();
    const results = Promise.all(
      Array.from({ length: MAX_RPCS_IN_FLIGHT }, (_, i) =>
        client.rpc(i + 1, 'players.join', { userId: 'u', playgroundId: 'p' }),
      ),
    );
    const busy = await client.rpc(MAX_RPCS_IN_FLIGHT + 1, 'players.join', { userId: 'u', playgroundId: 'p' });
    assert.deepEqual(busy.error, {
      status: 429,
      code: 4104,
      message: 'Too many control requests in flight from this server',
    });
    for (const result of await results) {
      assert.equal(result.error?.code, 4002);
      assert.equal(result.error?.status, 503);
    }
    assert.ok(Date.now() - started < 4_000, 'bounded by the backend timeout');
    await client.close();
  } finally {
    await stuck.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});
