import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import { type Stack, startStack } from '@plexus/testkit';
import { decodeJwt } from 'jose';
import { nextEvent, post } from './helpers.ts';

// Issue 10 item 4: the balancer's auth cache must not hand out a profile (or a session) that the
// backend has since changed. The backend announces each change on its event stream.
describe('auth cache freshness', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ servers: 1 });
  });
  after(async () => {
    await stack?.stop();
  });

  const newClient = () => new PlexusClient({ balancerUrl: stack.balancerUrl, backendUrl: stack.backendUrl });
  const ticketFor = (sessionId: string, playgroundId: string) =>
    post(`${stack.balancerUrl}/lb/api/v0/getEndpointPlaygroundId`, { sessionId, playgroundId });

  test('turning incognito on is honoured by the very next join: ticket and peers see the anonymous profile', async () => {
    const user = newClient();
    await user.loginAsGuest({ firstName: 'Margaret', lastName: 'Hamilton' });
    await user.updateProfile({ companyName: 'Apollo', companyTitle: 'Lead' });
    const sessionId = user.sessionId as string;
    // A first ticket puts the session, privacyMode 0, in the balancer's auth cache.
    const first = await ticketFor(sessionId, 'before-change');
    assert.equal(first.status, 200);
    assert.equal((decodeJwt(first.body.data.ticket).prof as { privacyMode: number }).privacyMode, 0);

    await user.updateProfile({ privacyMode: 1 });
    const next = await ticketFor(sessionId, 'after-change');
    assert.equal(next.status, 200);
    assert.equal((decodeJwt(next.body.data.ticket).prof as { privacyMode: number }).privacyMode, 1);

    // And through the SDK, at once: a watcher in the playground sees only an anonymous avatar.
    const watcher = newClient();
    await watcher.loginAsGuest({ firstName: 'Watcher' });
    const pgW = await watcher.join({ playgroundId: 'after-change-room' });
    await user.updateProfile({ privacyMode: 0 });
    // Cached again with privacyMode 0 (a ticket for a playground already held replaces that seat).
    await ticketFor(sessionId, 'before-change');
    await user.updateProfile({ privacyMode: 1 });
    const added = nextEvent(
      pgW,
      'entityAdded',
      (e: { kind: string; id: number }) => e.kind === 'avatar' && e.id !== pgW.selfId,
    );
    const pgU = await user.join({ playgroundId: 'after-change-room' });
    const [entity] = (await added) as [{ props: Record<string, unknown> }];
    const seen = JSON.stringify(entity.props);
    for (const secret of ['Margaret', 'Hamilton', 'Apollo', user.user?.id ?? 'no-id']) {
      assert.ok(!seen.includes(secret), `props must not reveal ${secret}: ${seen}`);
    }
    await pgU.leave();
    await pgW.leave();
  });

  test('a logout is honoured by the very next join', async () => {
    const client = newClient();
    await client.loginAsGuest({ firstName: 'Leaver' });
    const sessionId = client.sessionId as string;
    assert.equal((await ticketFor(sessionId, 'logout-now')).status, 200);
    await client.logout();
    const after = await ticketFor(sessionId, 'logout-now');
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 2001);
  });
});
