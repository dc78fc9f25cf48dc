import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  BalancerApi,
  type DisconnectInfo,
  type Playground,
  PlexusClient,
  type ReconnectedInfo,
  type ReconnectingInfo,
  UrlPool,
} from '@plexus/client';
import { type ComponentProcess, type Stack, startStack, waitFor } from '@plexus/testkit';
import { nextEvent, post } from './helpers.ts';

// The SDK's continuity against real processes: several balancer URLs, leave and fatal closes that
// must not reconnect, and resumes after a server is killed, frozen or drained. The last three need
// the dedicated servers' and the balancer's failover (checkpoints, re-placement, resume tokens).
const OPERATOR_KEY = 'sdk-continuity-operator-key';

describe('SDK against the real stack: continuity, balancer lists, parties, events', () => {
  let stack: Stack;
  let deadBalancer: string;
  const open: Playground[] = [];

  before(async () => {
    stack = await startStack({
      servers: 2,
      env: { PLEXUS_OPERATOR_KEY: OPERATOR_KEY, PLEXUS_CHECKPOINT_MS: '200' },
    });
    // A balancer URL nobody listens on: connection refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    deadBalancer = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });
  after(async () => {
    await Promise.all(open.map((pg) => pg.leave()));
    await stack?.stop();
  });

  async function joined(
    playgroundId: string,
    name: string,
    balancerUrl: string | string[] = stack.balancerUrl,
  ) {
    const client = new PlexusClient({ balancerUrl });
    await client.loginAsGuest({ firstName: name });
    const pg = await client.join({ playgroundId });
    open.push(pg);
    return { client, pg };
  }

  /** The process of the dedicated server hosting `pg`. */
  function hostOf(pg: Playground): ComponentProcess {
    const host = stack.servers.find((s) => s.name === pg.serverId);
    assert.ok(host, `server ${pg.serverId} is one of the stack's`);
    return host;
  }

  /** The avatar `entityId` as the playground's latest stored checkpoint holds it (operator checkpoints.get). */
  async function checkpointedAvatar(playgroundId: string, entityId: number) {
    const res = await post(
      `${stack.backendUrl}/api/v0/operatorRpc/checkpoints.get`,
      { playgroundId },
      { authorization: `Bearer ${OPERATOR_KEY}` },
    );
    const avatars: { entityId: number; position: { x: number } }[] =
      res.body.data?.checkpoint?.state?.avatars ?? [];
    return avatars.find((a) => a.entityId === entityId);
  }

  /** Moves `pg`'s avatar to x and waits until a checkpoint holds it there. */
  async function moveAndCheckpoint(pg: Playground, x: number): Promise<void> {
    pg.move({ position: { x, y: 0, z: 1 } });
    await waitFor(
      async () =>
        Math.abs(((await checkpointedAvatar(pg.playgroundId, pg.selfId))?.position.x ?? Number.NaN) - x) <
        0.01,
      {
        timeoutMs: 10_000,
        what: `a checkpoint of ${pg.playgroundId} with avatar ${pg.selfId} at x = ${x}`,
      },
    );
  }

  test('a list of balancer URLs skips a dead balancer, for logins and joins alike', async () => {
    // From the dead one first (start index 0): the live one answers.
    const balancer = new BalancerApi(new UrlPool([deadBalancer, stack.balancerUrl], 0));
    const client = new PlexusClient({ balancerUrl: [deadBalancer, stack.balancerUrl] });
    await client.loginAsGuest({ firstName: 'Listy' });
    const grant = await balancer.getEndpointPlaygroundId(client.sessionId as string, 'balancer-list');
    assert.match(grant.endpoint, /^ws:\/\/127\.0\.0\.1:\d+\//);
    // Whatever URL a client starts with, login and join work.
    for (const urls of [
      [deadBalancer, stack.balancerUrl],
      [stack.balancerUrl, deadBalancer],
    ]) {
      const { pg } = await joined('balancer-list', 'Listy', urls);
      assert.ok(pg.entities.has(pg.selfId));
      await pg.leave();
    }
  });

  test('catalogue and party helpers; a party matchmakes together; an invite code opens a private playground', async () => {
    const operator = async (method: string, body: unknown) => {
      const res = await post(`${stack.backendUrl}/api/v0/operatorRpc/${method}`, body, {
        authorization: `Bearer ${OPERATOR_KEY}`,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data;
    };
    await operator('playgrounds.create', {
      id: 'sdk-expo',
      name: 'SDK expo',
      type: 'sdk-expo',
      capacity: 10,
      tags: ['sdk'],
      region: 'eu',
    });
    const vip = await operator('playgrounds.create', {
      id: 'sdk-vip',
      name: 'SDK VIP',
      type: 'sdk-vip',
      capacity: 10,
      visibility: 'private',
    });
    const ada = new PlexusClient({ balancerUrl: stack.balancerUrl });
    const bob = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await ada.loginAsGuest({ firstName: 'Ada' });
    await bob.loginAsGuest({ firstName: 'Bob' });

    const page = await ada.browsePlaygrounds({ tags: ['sdk'] });
    assert.deepEqual(
      page.playgrounds.map((p) => p.id),
      ['sdk-expo'],
    );
    const party = await ada.createParty();
    assert.equal((await bob.joinParty(party.code)).members.length, 2);
    assert.equal((await ada.getParty())?.partyId, party.partyId);
    const criteria = { playgroundType: 'sdk-expo', tags: ['sdk'], region: 'eu' };
    const pgA = await ada.join({ partyId: party.partyId, criteria });
    open.push(pgA);
    const pgB = await bob.join({ partyId: party.partyId, criteria });
    open.push(pgB);
    assert.equal(pgA.playgroundId, 'sdk-expo');
    assert.equal(pgB.playgroundId, pgA.playgroundId, 'the party lands together');

    const code = vip.playground.inviteCode as string;
    assert.equal(await bob.resolveInvite(code), 'sdk-vip');
    const pgVip = await bob.join({ playgroundId: 'sdk-vip', inviteCode: code });
    open.push(pgVip);
    assert.equal(pgVip.playgroundId, 'sdk-vip');
    assert.equal(await bob.leaveParty(), true);
    assert.equal(await bob.getParty(), null);
    await Promise.all([pgA.leave(), pgB.leave(), pgVip.leave()]);
  });

  test('published events reach client.on("event"): live, and from the inbox on the next join', async () => {
    const publish = async (userId: string, type: string) => {
      const res = await post(
        `${stack.backendUrl}/api/v0/operatorRpc/events.publish`,
        { target: { userId }, type, payload: { n: type } },
        { authorization: `Bearer ${OPERATOR_KEY}` },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data as { id: string; delivery: 'live' | 'stored' };
    };
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl });
    const user = await client.loginAsGuest({ firstName: 'Listener' });
    const seen: { id: string; type: string; via: string }[] = [];
    client.on('event', (event, pg) => seen.push({ id: event.id, type: event.type, via: pg.playgroundId }));

    // Offline: stored, then delivered with the next join.
    const stored = await publish(user.id, 'inbox.note');
    assert.equal(stored.delivery, 'stored');
    const pg = await client.join({ playgroundId: 'event-hall' });
    open.push(pg);
    await waitFor(() => seen.some((e) => e.id === stored.id), { what: 'the stored event after the join' });

    // Online: live.
    const live = await publish(user.id, 'live.note');
    assert.equal(live.delivery, 'live');
    await waitFor(() => seen.some((e) => e.id === live.id), { what: 'the live event' });
    assert.deepEqual(
      seen.map((e) => [e.type, e.via]),
      [
        ['inbox.note', 'event-hall'],
        ['live.note', 'event-hall'],
      ],
    );
    await pg.leave();
  });

  test('leave() ends the handle without reconnecting', async () => {
    const { pg } = await joined('leave-hall', 'Leaver');
    const events: string[] = [];
    pg.on('reconnecting', () => events.push('reconnecting'));
    pg.on('disconnected', (info) => events.push(`disconnected:${info.code}`));
    await pg.leave();
    assert.equal(pg.state, 'disconnected');
    assert.deepEqual(events, ['disconnected:1000']);
  });

  test('a fatal close (the same user joins again elsewhere) ends the handle without reconnecting', async () => {
    const { client, pg } = await joined('dup-hall', 'Twin');
    const events: string[] = [];
    pg.on('reconnecting', () => events.push('reconnecting'));
    const ended = nextEvent(pg, 'disconnected') as Promise<[DisconnectInfo]>;
    const other = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await other.useSession(client.sessionId as string);
    const second = await other.join({ playgroundId: 'dup-hall' });
    open.push(second);
    const [info] = await ended;
    assert.equal(info.code, 4008);
    assert.equal(info.error?.name, 'PROTOCOL_DUPLICATE_LOGIN');
    assert.deepEqual(events, []);
    assert.equal(second.state, 'connected');
  });

  test('kill -9 of the hosting server: the client resumes elsewhere, same selfId, same Map and objects, restored position', async (t) => {
    await stack.addServer();
    const { pg } = await joined('kill-hall', 'Survivor');
    const { pg: watcher } = await joined('kill-hall', 'Watcher');
    assert.equal(watcher.serverId, pg.serverId);
    await moveAndCheckpoint(pg, 4);
    const map = pg.entities;
    const self = pg.self;
    const selfId = pg.selfId;
    const killed = pg.serverId;
    const events: string[] = [];
    pg.on('reconnecting', (i) => events.push(`reconnecting:${i.reason}`));
    pg.on('disconnected', () => events.push('disconnected'));
    const reconnected = nextEvent(pg, 'reconnected', () => true, 20_000) as Promise<[ReconnectedInfo]>;

    await hostOf(pg).kill();
    const [info] = await reconnected;
    assert.equal(info.resumed, true);
    assert.notEqual(info.serverId, killed);
    assert.equal(info.selfChanged, false);
    assert.equal(pg.selfId, selfId);
    assert.equal(pg.entities, map);
    assert.equal(pg.self, self, 'the same avatar object');
    assert.ok(Math.abs((self?.position.x ?? 0) - 4) < 0.01, `restored at x = 4 (got ${self?.position.x})`);
    assert.ok(info.downtimeMs < 10_000, `downtime ${info.downtimeMs} ms`);
    t.diagnostic(`downtime ${Math.round(info.downtimeMs)} ms after ${info.attempts} attempt(s)`);
    assert.ok(events.length >= 1 && events.every((e) => e === 'reconnecting:closed'), events.join());
    assert.equal(pg.state, 'connected');
  });

  test('a frozen server (SIGSTOP) is left behind through the liveness timeout', async (t) => {
    await stack.addServer();
    const { pg } = await joined('frozen-hall', 'Thawed');
    await moveAndCheckpoint(pg, 2);
    const frozen = hostOf(pg);
    const reasons: string[] = [];
    pg.on('reconnecting', (i: ReconnectingInfo) => reasons.push(i.reason));
    const reconnected = nextEvent(pg, 'reconnected', () => true, 30_000) as Promise<[ReconnectedInfo]>;
    frozen.proc.kill('SIGSTOP');
    try {
      const [info] = await reconnected;
      t.diagnostic(`downtime ${Math.round(info.downtimeMs)} ms after ${info.attempts} attempt(s)`);
      assert.equal(reasons[0], 'liveness');
      assert.notEqual(info.serverId, frozen.name);
      assert.equal(info.resumed, true);
    } finally {
      frozen.proc.kill('SIGCONT');
    }
  });

  test('drain: REDIRECT moves the client to the new host without disconnected', async (t) => {
    await stack.addServer();
    const { pg } = await joined('drain-hall', 'Mover');
    const selfId = pg.selfId;
    const map = pg.entities;
    const reasons: string[] = [];
    pg.on('reconnecting', (i) => reasons.push(i.reason));
    let disconnected = false;
    pg.on('disconnected', () => {
      disconnected = true;
    });
    const reconnected = nextEvent(pg, 'reconnected', () => true, 20_000) as Promise<[ReconnectedInfo]>;
    const drained = pg.serverId;
    const res = await post(
      `${stack.balancerUrl}/lb/api/v0/admin/servers/${drained}/drain`,
      {},
      { authorization: `Bearer ${OPERATOR_KEY}` },
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const [info] = await reconnected;
    t.diagnostic(`downtime ${Math.round(info.downtimeMs)} ms`);
    assert.equal(info.reason, 'redirect');
    assert.deepEqual(reasons, ['redirect']);
    assert.notEqual(pg.serverId, drained);
    assert.equal(pg.selfId, selfId);
    assert.equal(pg.entities, map);
    assert.equal(disconnected, false);
  });
});
