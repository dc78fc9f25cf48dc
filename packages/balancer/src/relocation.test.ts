import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DEV_SECRETS, signResumeToken } from '@plexus/kit';
import { type DisplayProfile, HttpPaths, type RelocateResult, TICKET_ISSUER } from '@plexus/protocol';
import { importJWK, jwtVerify } from 'jose';
import { type BalancerHandle, startBalancer } from './start.ts';
import {
  type ControlClient,
  registeredClient,
  silentLogger,
  TEST_SECRET,
  testConfig,
  waitFor,
} from './test-support.ts';

let lb: BalancerHandle;
const clients: ControlClient[] = [];

before(async () => {
  lb = await startBalancer(testConfig(), { logger: silentLogger(), events: false });
});

after(async () => {
  for (const c of clients) await c.close();
  await lb.close();
});

async function server(serverId: string, overrides: Record<string, unknown> = {}, players = 0) {
  const client = await registeredClient(lb.url, serverId, overrides);
  clients.push(client);
  if (players > 0) {
    client.send({ type: 'load', players, playgrounds: [], cpu: 0, tickMs: 0 });
    await waitFor(async () => (await lb.balancer.store.get(serverId))?.players === players);
  }
  return client;
}

const profile = (firstName: string): DisplayProfile => ({
  firstName,
  lastName: 'Moved',
  privacyMode: 0,
  avatar: '',
  companyName: '',
  companyTitle: '',
});

const token = (userId: string, playgroundId: string) =>
  signResumeToken(TEST_SECRET, { userId, playgroundId, entityId: 1, expiresAt: Date.now() + 60_000 });

test('lb.relocate moves the playground to the server with the most headroom and signs resume tickets', async () => {
  const old = await server('ds-old', {
    capacity: 10,
    playgrounds: [{ playgroundId: 'reloc', players: 3, epoch: 1 }],
  });
  await server('ds-busy', { capacity: 10 }, 8);
  await server('ds-roomy', { capacity: 10 }, 2);
  const users = [
    { userId: 'u1', profile: profile('One'), resumeToken: token('u1', 'reloc') },
    { userId: 'u2', profile: profile('Two'), resumeToken: token('u2', 'reloc') },
    // A token for another playground gets no ticket.
    { userId: 'u3', profile: profile('Three'), resumeToken: token('u3', 'elsewhere') },
  ];
  const reply = await old.rpc(1, 'lb.relocate', { playgroundId: 'reloc', users, serverId: 'ds-busy' });
  assert.equal(reply.error, undefined, JSON.stringify(reply.error));
  const result = reply.data as RelocateResult;
  assert.equal(result.serverId, 'ds-roomy');
  assert.equal(result.endpoint, 'ws://127.0.0.1:9100/ws');
  assert.deepEqual(Object.keys(result.tickets).sort(), ['u1', 'u2']);
  const key = await importJWK(lb.balancer.signer.publicJwk, 'EdDSA');
  for (const user of users.slice(0, 2)) {
    const { payload } = await jwtVerify(result.tickets[user.userId] as string, key, {
      issuer: TICKET_ISSUER,
      audience: 'ds-roomy',
    });
    assert.equal(payload.sub, user.userId);
    assert.equal(payload.pg, 'reloc');
    assert.equal(payload.rt, user.resumeToken);
    assert.deepEqual(payload.prof, user.profile);
  }
  assert.equal(await lb.balancer.store.homeOf('reloc'), 'ds-roomy');
  const roomy = await lb.balancer.store.get('ds-roomy');
  assert.equal(roomy?.pending, 2);
  // The caller is draining from now on, and its reports of the playground change nothing.
  assert.equal((await lb.balancer.store.get('ds-old'))?.draining, true);
  old.send({
    type: 'load',
    players: 3,
    playgrounds: [{ playgroundId: 'reloc', players: 3, epoch: 1 }],
    cpu: 0,
    tickMs: 0,
  });
  await waitFor(async () => (await lb.balancer.store.get('ds-old'))?.playgrounds.length === 1);
  assert.equal(await lb.balancer.store.homeOf('reloc'), 'ds-roomy');

  // No other server has room for nine more users → LB_NO_CAPACITY; bad params → COMMON_BAD_REQUEST.
  const crowd = Array.from({ length: 9 }, (_, i) => ({
    userId: `c${i}`,
    profile: profile(`C${i}`),
    resumeToken: token(`c${i}`, 'crowded'),
  }));
  const full = await old.rpc(2, 'lb.relocate', { playgroundId: 'crowded', users: crowd });
  assert.equal(full.error?.code, 4001);
  const bad = await old.rpc(3, 'lb.relocate', { playgroundId: 'has space', users: [] });
  assert.equal(bad.error?.code, 1000);
});

test('admin drain: operator key required, 404 for an unknown server, 202 and the command otherwise', async () => {
  const target = await server('ds-to-drain');
  const drain = (serverId: string, authorization?: string) =>
    fetch(`${lb.url}${HttpPaths.adminServersPrefix}${serverId}/drain`, {
      method: 'POST',
      headers: authorization ? { authorization } : {},
    });
  for (const authorization of [undefined, 'Bearer wrong-operator-key', `Basic ${DEV_SECRETS.operatorKey}`]) {
    const res = await drain('ds-to-drain', authorization);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, 2006);
  }
  const unknown = await drain('ds-nobody', `Bearer ${DEV_SECRETS.operatorKey}`);
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { error: { code: number } }).error.code, 4101);

  const res = await drain('ds-to-drain', `Bearer ${DEV_SECRETS.operatorKey}`);
  assert.equal(res.status, 202);
  assert.deepEqual(((await res.json()) as { data: unknown }).data, {
    serverId: 'ds-to-drain',
    draining: true,
  });
  assert.deepEqual(await target.nextOfType('command'), { type: 'command', command: 'drain' });
  assert.equal((await lb.balancer.store.get('ds-to-drain'))?.draining, true);
});
