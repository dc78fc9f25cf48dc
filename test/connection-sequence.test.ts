import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import { type Stack, startStack } from '@plexus/testkit';
import { nextEvent, post } from './helpers.ts';

// The seed's connection sequence, end to end, against real processes: client → balancer →
// backend → balancer → client → dedicated server → client.
describe('connection sequence', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ servers: 2 });
  });
  after(async () => {
    await stack?.stop();
  });

  const newClient = () => new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });

  test('a guest logs in and the backend vouches for the session to partners', async () => {
    const client = newClient();
    const user = await client.loginAsGuest({ firstName: 'Ada', lastName: 'Lovelace' });
    assert.equal(user.firstName, 'Ada');
    assert.ok(client.sessionId && client.sessionId.length >= 22);
    const check = await post(
      `${stack.backendUrl}/api/v0/partnerRpc/authCheck.getUserBySessionId`,
      { sessionId: client.sessionId },
      { authorization: `Bearer ${stack.partnerKey}` },
    );
    assert.equal(check.status, 200);
    assert.equal(check.body.error.status, false);
    assert.deepEqual(Object.keys(check.body.data.user).sort(), [
      'avatar',
      'companyName',
      'companyTitle',
      'firstName',
      'id',
      'lastName',
      'privacyMode',
    ]);
  });

  test('getEndpointPlaygroundId returns the grant shape; the same playground sticks to one server', async () => {
    const a = newClient();
    const b = newClient();
    await a.loginAsGuest({ firstName: 'A' });
    await b.loginAsGuest({ firstName: 'B' });
    const grantA = await post(`${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`, {
      sessionId: a.sessionId,
      playgroundId: 'sticky-hall',
    });
    assert.equal(grantA.status, 200, JSON.stringify(grantA.body));
    const data = grantA.body.data;
    assert.deepEqual(Object.keys(data).sort(), [
      'endpoint',
      'expiresAt',
      'playgroundId',
      'serverId',
      'ticket',
    ]);
    assert.match(data.endpoint, /^ws:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(data.playgroundId, 'sticky-hall');
    assert.ok(Date.parse(data.expiresAt) > Date.now());
    // The session may come as a Bearer header instead of the body.
    const grantB = await post(
      `${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`,
      { playgroundId: 'sticky-hall' },
      { authorization: `Bearer ${b.sessionId}` },
    );
    assert.equal(grantB.status, 200);
    assert.equal(grantB.body.data.serverId, data.serverId, 'the second user lands on the same server');
    assert.notEqual(grantB.body.data.ticket, data.ticket);
  });

  test('getEndpoint matchmakes into a playground and the client can join it', async () => {
    const client = newClient();
    await client.loginAsGuest({ firstName: 'Matcher' });
    const pg = await client.join();
    try {
      assert.ok(pg.playgroundId.length > 0);
      assert.ok(pg.entities.has(pg.selfId));
    } finally {
      await pg.leave();
    }
  });

  test('two clients join, get a welcome snapshot, see each other move, and see a leave', async () => {
    const ada = newClient();
    const bob = newClient();
    await ada.loginAsGuest({ firstName: 'Ada', lastName: 'Lovelace' });
    await bob.loginAsGuest({ firstName: 'Bob' });
    const pgA = await ada.join({ playgroundId: 'expo-hall' });
    // Welcome snapshot: own avatar, with display data from the ticket.
    const self = pgA.entities.get(pgA.selfId);
    assert.ok(self, 'own avatar in the snapshot');
    assert.equal(self.kind, 'avatar');
    assert.equal(self.props.displayName, 'Ada Lovelace');

    const bobSeen = nextEvent(
      pgA,
      'entityAdded',
      (e: { props: { displayName?: string } }) => e.props.displayName === 'Bob',
    );
    const pgB = await bob.join({ playgroundId: 'expo-hall' });
    assert.equal(pgB.serverId, pgA.serverId);
    assert.ok(pgB.entities.has(pgA.selfId), "Bob's snapshot holds Ada");
    await bobSeen;

    const target = { x: 3.25, y: 0, z: -1.5 };
    const moved = nextEvent(
      pgB,
      'entityChanged',
      (e: { id: number; position: typeof target }) =>
        e.id === pgA.selfId &&
        Math.abs(e.position.x - target.x) < 1e-3 &&
        Math.abs(e.position.z - target.z) < 1e-3,
    );
    pgA.move({ position: target, rotation: { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 } });
    await moved;

    const gone = nextEvent(pgB, 'entityRemoved', (e: { id: number }) => e.id === pgA.selfId);
    await pgA.leave();
    await gone;
    assert.equal(pgB.entities.has(pgA.selfId), false);
    await pgB.leave();
  });

  test('an incognito user shows only an anonymous name to others', async () => {
    const ghost = newClient();
    const watcher = newClient();
    await ghost.loginAsGuest({ firstName: 'Grace', lastName: 'Hopper' });
    await ghost.updateProfile({ privacyMode: 1, companyName: 'Navy', companyTitle: 'Rear Admiral' });
    await watcher.loginAsGuest({ firstName: 'Watcher' });
    const pgW = await watcher.join({ playgroundId: 'masquerade' });
    const added = nextEvent(
      pgW,
      'entityAdded',
      (e: { kind: string; id: number }) => e.kind === 'avatar' && e.id !== pgW.selfId,
    );
    const pgG = await ghost.join({ playgroundId: 'masquerade' });
    const [entity] = (await added) as [{ props: Record<string, unknown> }];
    const seen = JSON.stringify(entity.props);
    for (const secret of ['Grace', 'Hopper', 'Navy', 'Rear Admiral', ghost.user?.id ?? 'no-id']) {
      assert.ok(!seen.includes(secret), `props must not reveal ${secret}: ${seen}`);
    }
    assert.match(String(entity.props.displayName), /^Anonymous/);
    await pgG.leave();
    await pgW.leave();
  });

  test('after logout the balancer refuses the session within the auth cache TTL', async () => {
    const client = newClient();
    await client.loginAsGuest({ firstName: 'Leaver' });
    const sessionId = client.sessionId as string;
    const body = { sessionId, playgroundId: 'logout-hall' };
    // A first grant puts the session in the balancer's auth cache.
    assert.equal((await post(`${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`, body)).status, 200);
    await client.logout();
    const deadline = Date.now() + 5000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await post(`${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`, body)).status;
    }
    assert.equal(status, 401, 'refused within 5 s of logout');
  });
});
