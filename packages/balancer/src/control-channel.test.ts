import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEV_SECRETS } from '@plexus/kit';
import { type BalancerHandle, startBalancer } from './start.ts';
import {
  ControlClient,
  registerMessage,
  silentLogger,
  TEST_SECRET,
  testConfig,
  testUser,
  waitFor,
  within,
} from './test-support.ts';

let lb: BalancerHandle;
const clients: ControlClient[] = [];

before(async () => {
  lb = await startBalancer(testConfig({ heartbeatIntervalMs: 50, registerTimeoutMs: 300 }), {
    logger: silentLogger(),
    events: false,
  });
});

after(async () => {
  for (const c of clients) await c.close();
  await lb.close();
});

function connect(options: ConstructorParameters<typeof ControlClient>[1] = {}): ControlClient {
  const client = new ControlClient(lb.url, options);
  clients.push(client);
  return client;
}

async function register(serverId: string, overrides: Record<string, unknown> = {}): Promise<ControlClient> {
  const client = connect();
  await client.opened;
  client.send(registerMessage(serverId, overrides));
  const reply = (await client.next()) as { type: string };
  assert.equal(reply.type, 'registered');
  return client;
}

/** The registry as the operator sees it (with each server's playgrounds). */
async function servers(): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${lb.url}/lb/api/v0/servers`, {
    headers: { authorization: `Bearer ${DEV_SECRETS.operatorKey}` },
  });
  return ((await res.json()) as { data: { servers: Record<string, unknown>[] } }).data.servers;
}

async function deadServers(): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${lb.url}/lb/api/v0/servers`);
  return ((await res.json()) as { data: { dead: Record<string, unknown>[] } }).data.dead;
}

async function serverIds(): Promise<string[]> {
  return (await servers()).map((s) => s.serverId as string);
}

test('a missing or wrong cluster secret is refused with HTTP 401', async () => {
  for (const secret of [undefined, 'wrong-secret', `${TEST_SECRET}x`]) {
    const client = connect({ secret });
    await assert.rejects(client.opened, { statusCode: 401 });
  }
});

test('upgrades on other paths are dropped', async () => {
  const client = connect({ path: '/somewhere-else' });
  await assert.rejects(client.opened);
});

test('register → registered with the ticket JWK and the heartbeat interval', async () => {
  const client = connect();
  await client.opened;
  client.send(registerMessage('ds-reg', { playgrounds: [{ playgroundId: 'hall', players: 2 }] }));
  const reply = (await client.next()) as { ticketKey: { kty: string; crv: string; x: string } };
  const key = reply.ticketKey;
  assert.deepEqual(reply, {
    type: 'registered',
    ticketKey: lb.balancer.signer.publicJwk,
    heartbeatIntervalMs: 50,
  });
  assert.equal(key.kty, 'OKP');
  assert.equal(key.crv, 'Ed25519');
  assert.ok(key.x && key.x.length > 20);
  assert.equal(await lb.balancer.store.homeOf('hall'), 'ds-reg');
  assert.ok((await serverIds()).includes('ds-reg'));
  await client.close();
  await waitFor(async () => !(await serverIds()).includes('ds-reg'), 2_000, 'removal after close');
  assert.equal(await lb.balancer.store.homeOf('hall'), undefined);
  const dead = await deadServers();
  const entry = dead.find((d) => d.serverId === 'ds-reg');
  assert.equal(entry?.alive, false);
  assert.match(String(entry?.reason), /control socket closed/);
  assert.equal(entry?.playgrounds, 1);
});

test('garbage JSON → error message and close 4000; the balancer keeps serving', async () => {
  const client = connect();
  await client.opened;
  client.send('{not json');
  assert.deepEqual(await client.next(), {
    type: 'error',
    code: 1001,
    message: 'The message is not valid JSON',
  });
  assert.equal((await within(client.closed)).code, 4000);
  const health = await fetch(`${lb.url}/healthz`);
  assert.equal(health.status, 200);
  const again = await register('ds-after-garbage');
  await again.close();
});

test('invalid fields, unknown types and messages before register are refused with close 4000', async () => {
  const cases: [unknown, number][] = [
    [registerMessage('bad id with spaces'), 1000],
    [registerMessage('ds-x', { capacity: -1 }), 1000],
    [registerMessage('ds-x', { endpoint: 'http://not-ws' }), 1000],
    [{ type: 'teleport' }, 1000],
    [[1, 2, 3], 1000],
    [{ type: 'load', players: 0, playgrounds: [], cpu: 0, tickMs: 0 }, 5007],
  ];
  for (const [message, code] of cases) {
    const client = connect();
    await client.opened;
    client.send(message);
    const reply = (await client.next()) as { type: string; code: number };
    assert.equal(reply.type, 'error', JSON.stringify(message));
    assert.equal(reply.code, code, JSON.stringify(message));
    assert.equal((await within(client.closed)).code, 4000);
  }
  assert.equal((await serverIds()).includes('ds-x'), false);
});

test('an unsupported control protocol version closes with 4001', async () => {
  const client = connect();
  await client.opened;
  client.send(registerMessage('ds-v', { protocolVersion: 99 }));
  assert.equal(((await client.next()) as { code: number }).code, 5002);
  assert.equal((await within(client.closed)).code, 4001);
});

test('no register within the deadline → error and close 4002', async () => {
  const client = connect();
  await client.opened;
  assert.equal(((await client.next()) as { code: number }).code, 5003);
  assert.equal((await within(client.closed)).code, 4002);
});

test('a load report appears in GET /lb/api/v0/servers', async () => {
  const client = await register('ds-load', { capacity: 40 });
  client.send({
    type: 'load',
    players: 7,
    playgrounds: [
      { playgroundId: 'expo', players: 5 },
      { playgroundId: 'cafe', players: 2 },
    ],
    cpu: 0.25,
    tickMs: 1.5,
  });
  const entry = await waitFor(
    async () => (await servers()).find((s) => s.serverId === 'ds-load' && s.players === 7),
    2_000,
    'load report',
  );
  assert.equal(entry.capacity, 40);
  assert.equal(entry.pending, 0);
  assert.equal(entry.draining, false);
  assert.equal(entry.alive, true);
  assert.deepEqual(entry.balancers, [lb.balancer.lbId]);
  assert.equal(entry.version, '0.1.0');
  assert.equal(entry.endpoint, 'ws://127.0.0.1:9100/ws');
  assert.deepEqual(entry.playgrounds, [
    { playgroundId: 'expo', players: 5 },
    { playgroundId: 'cafe', players: 2 },
  ]);
  assert.ok(!Number.isNaN(Date.parse(entry.lastReportAt as string)));
  assert.equal(await lb.balancer.store.homeOf('cafe'), 'ds-load');
  // A server that starts draining says so in its reports; it takes no new playgrounds from then on.
  client.send({ type: 'load', players: 7, playgrounds: [], cpu: 0, tickMs: 0, draining: true });
  await waitFor(
    async () => (await servers()).find((s) => s.serverId === 'ds-load')?.draining === true,
    2_000,
    'draining report',
  );
  await client.close();
});

test('ticketRedeemed releases the pending seat and counts the player', async () => {
  const client = await register('ds-redeem', { capacity: 5 });
  const grant = await lb.balancer.join.grant(testUser('u1'), 'redeem-room');
  assert.equal(grant.serverId, 'ds-redeem');
  const pending = async () => (await lb.balancer.store.get('ds-redeem'))?.pending;
  assert.equal(await pending(), 1);
  const jti = JSON.parse(Buffer.from(grant.ticket.split('.')[1] as string, 'base64url').toString()).jti;
  client.send({ type: 'ticketRedeemed', jti, playgroundId: 'redeem-room' });
  await waitFor(async () => (await pending()) === 0, 2_000, 'redemption');
  assert.equal((await lb.balancer.store.get('ds-redeem'))?.players, 1);
  await client.close();
});

test('a second connection with the same server id replaces the first', async () => {
  const first = await register('ds-dup');
  const second = await register('ds-dup', { capacity: 77 });
  assert.equal((await within(first.closed)).code, 4008);
  const entry = (await servers()).find((s) => s.serverId === 'ds-dup');
  assert.equal(entry?.capacity, 77);
  // The replaced socket's close must not unregister the live one.
  assert.ok(lb.balancer.control.connectedServers().includes('ds-dup'));
  await second.close();
});

test('drain command reaches the server and stops new placements on it', async () => {
  const client = await register('ds-drain');
  assert.equal(await lb.balancer.router.drain('ds-drain'), true);
  assert.deepEqual(await client.next(), { type: 'command', command: 'drain' });
  assert.equal((await servers()).find((s) => s.serverId === 'ds-drain')?.draining, true);
  assert.equal(await lb.balancer.router.drain('ds-unknown'), false);
  await client.close();
});

test('epoch conflicts: the higher epoch keeps the playground, the other server is told to release it', async () => {
  const a = await register('ds-epoch-a', { playgrounds: [{ playgroundId: 'fenced', players: 1, epoch: 3 }] });
  assert.equal(await lb.balancer.store.homeOf('fenced'), 'ds-epoch-a');
  // A newer holder (it claimed epoch 5 after ds-epoch-a was cut off) wins; the old one must stop.
  const b = await register('ds-epoch-b', { playgrounds: [{ playgroundId: 'fenced', players: 1, epoch: 5 }] });
  assert.deepEqual(await a.nextOfType('release'), { type: 'release', playgroundId: 'fenced' });
  assert.equal(await lb.balancer.store.homeOf('fenced'), 'ds-epoch-b');
  // A stale reporter (lower epoch) loses, in a load report as in a register; ties keep the home.
  a.send({
    type: 'load',
    players: 1,
    playgrounds: [{ playgroundId: 'fenced', players: 1, epoch: 4 }],
    cpu: 0,
    tickMs: 0,
  });
  assert.deepEqual(await a.nextOfType('release'), { type: 'release', playgroundId: 'fenced' });
  const c = await register('ds-epoch-c', { playgrounds: [{ playgroundId: 'fenced', players: 1, epoch: 5 }] });
  assert.deepEqual(await c.nextOfType('release'), { type: 'release', playgroundId: 'fenced' });
  assert.equal(await lb.balancer.store.homeOf('fenced'), 'ds-epoch-b');
  // A server that lost its link comes back with its playgrounds: re-adopted when nobody holds them.
  await b.close();
  await waitFor(async () => (await lb.balancer.store.homeOf('fenced')) === undefined, 2_000, 'b dead');
  c.send({
    type: 'load',
    players: 1,
    playgrounds: [{ playgroundId: 'fenced', players: 1, epoch: 5 }],
    cpu: 0,
    tickMs: 0,
  });
  await waitFor(
    async () => (await lb.balancer.store.homeOf('fenced')) === 'ds-epoch-c',
    2_000,
    're-adoption',
  );
  await a.close();
  await c.close();
});

test('a draining server neither takes over nor is told to release a playground placed elsewhere', async () => {
  const a = await register('ds-moving', { playgrounds: [{ playgroundId: 'moving', players: 2, epoch: 2 }] });
  const b = await register('ds-target');
  a.send({
    type: 'load',
    players: 2,
    playgrounds: [{ playgroundId: 'moving', players: 2, epoch: 2 }],
    cpu: 0,
    tickMs: 0,
    draining: true,
  });
  await waitFor(async () => (await servers()).find((s) => s.serverId === 'ds-moving')?.draining === true);
  const grant = await lb.balancer.join.grant(testUser('u-moving'), 'moving');
  assert.equal(grant.serverId, 'ds-target');
  a.send({
    type: 'load',
    players: 2,
    playgrounds: [{ playgroundId: 'moving', players: 2, epoch: 9 }],
    cpu: 0,
    tickMs: 0,
    draining: true,
  });
  await waitFor(
    async () => (await lb.balancer.store.get('ds-moving'))?.playgrounds[0]?.epoch === 9,
    2_000,
    'the epoch-9 report',
  );
  assert.equal(await lb.balancer.store.homeOf('moving'), 'ds-target');
  await assert.rejects(a.nextOfType('release', 200));
  await a.close();
  await b.close();
});

test('a server that answers pings stays; one that stops answering is removed after ~3 heartbeats', async () => {
  const alive = await register('ds-alive');
  let pings = 0;
  alive.ws.on('ping', () => pings++);
  const mute = connect({ autoPong: false });
  await mute.opened;
  mute.send(registerMessage('ds-mute', { playgrounds: [{ playgroundId: 'mute-room', players: 1 }] }));
  assert.equal(((await mute.next()) as { type: string }).type, 'registered');
  assert.equal(await lb.balancer.store.homeOf('mute-room'), 'ds-mute');

  await waitFor(async () => !(await serverIds()).includes('ds-mute'), 3_000, 'dead server removal');
  assert.equal(await lb.balancer.store.homeOf('mute-room'), undefined);
  assert.match(
    String((await deadServers()).find((d) => d.serverId === 'ds-mute')?.reason),
    /missed 3 heartbeats/,
  );
  await within(mute.closed, 2_000, 'terminated socket');
  await waitFor(() => pings >= 5, 3_000, 'five pings');
  assert.ok((await serverIds()).includes('ds-alive'));
  await alive.close();
});

test('close() sends 1001 to connected servers and the process can exit', async () => {
  const other = await startBalancer(testConfig({ heartbeatIntervalMs: 1_000 }), {
    logger: silentLogger(),
    events: false,
  });
  const client = new ControlClient(other.url);
  await client.opened;
  client.send(registerMessage('ds-bye'));
  await client.next();
  await other.close();
  assert.equal((await within(client.closed)).code, 1001);
  await other.close(); // idempotent
  await assert.rejects(fetch(`${other.url}/healthz`));
});
