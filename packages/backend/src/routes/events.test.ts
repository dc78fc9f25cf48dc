import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EVENT_MAX_PAYLOAD_BYTES, type EventsPublishResult, type PlayersJoinResult } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import { forEachEngine } from '../storage/engines.test-support.ts';
import {
  code,
  failure,
  OPERATOR_KEY,
  PARTNER_KEY,
  post,
  startTestBackend,
  type TestBackend,
  tempRoot,
} from '../test-support.ts';
import {
  INBOX_TTL_MS,
  metricValue,
  operatorRpc,
  PRESENCE_TTL_MS,
  partnerRpc,
  startEngineBackend,
} from './continuity.test-support.ts';

const root = tempRoot();
after(() => root.remove());

const publish = (app: FastifyInstance, body: Record<string, unknown>) =>
  operatorRpc<EventsPublishResult>(app, 'events.publish', {
    type: 'friend.ping',
    payload: { n: 1 },
    ...body,
  });
const join = (app: FastifyInstance, userId: string, serverId = 'ds-a') =>
  partnerRpc<PlayersJoinResult>(app, 'players.join', { serverId, userId, playgroundId: 'pg-1' });

forEachEngine(
  'an event for an offline user is stored and handed over once on their next join',
  async (db, { t }) => {
    const { app, clock } = await startEngineBackend(db, t);
    const fromOperator = await publish(app, { target: { userId: 'ada' }, payload: { text: 'hi' } });
    assert.equal(fromOperator.status, 200);
    assert.equal(fromOperator.body.data?.delivery, 'stored');
    const acceptedAt = clock.now;
    clock.now += 1000;
    const fromServer = await partnerRpc<EventsPublishResult>(app, 'events.publish', {
      serverId: 'ds-b',
      target: { userId: 'ada' },
      type: 'chat:dm',
      payload: 'psst',
      fromUserId: 'bob',
    });
    assert.equal(fromServer.body.data?.delivery, 'stored');

    const first = await join(app, 'ada');
    assert.deepEqual(first.body.data?.inbox, [
      {
        id: fromOperator.body.data?.id,
        target: { userId: 'ada' },
        type: 'friend.ping',
        payload: { text: 'hi' },
        from: { kind: 'operator' },
        at: acceptedAt,
      },
      {
        id: fromServer.body.data?.id,
        target: { userId: 'ada' },
        type: 'chat:dm',
        payload: 'psst',
        from: { kind: 'server', serverId: 'ds-b', userId: 'bob' },
        at: acceptedAt + 1000,
      },
    ]);
    assert.match(String(fromOperator.body.data?.id), /^ev_[A-Za-z0-9_-]{22}$/);
    assert.deepEqual((await join(app, 'ada')).body.data?.inbox, []);
  },
);

forEachEngine('stored events expire after the inbox TTL', async (db, { t }) => {
  const { app, clock } = await startEngineBackend(db, t);
  await publish(app, { target: { userId: 'ada' }, payload: 'old' });
  clock.now += INBOX_TTL_MS - 1;
  await publish(app, { target: { userId: 'ada' }, payload: 'recent' });
  clock.now += 1;
  const inbox = (await join(app, 'ada')).body.data?.inbox ?? [];
  assert.deepEqual(
    inbox.map((e) => e.payload),
    ['recent'],
  );
});

forEachEngine(
  'a user is live while their server refreshes presence and stored once it lapses',
  async (db, { t }) => {
    const { app, clock } = await startEngineBackend(db, t);
    const deliveryNow = async () => (await publish(app, { target: { userId: 'ada' } })).body.data?.delivery;
    await join(app, 'ada');
    assert.equal(await deliveryNow(), 'live');
    clock.now += PRESENCE_TTL_MS;
    assert.equal(await deliveryNow(), 'live');
    clock.now += 1;
    assert.equal(await deliveryNow(), 'stored');

    const save = { serverId: 'ds-a', playgroundId: 'pg-1', players: [{ userId: 'ada' }] };
    assert.equal((await partnerRpc(app, 'players.save', save)).status, 200);
    assert.equal(await deliveryNow(), 'live');
    await partnerRpc(app, 'players.leave', {
      serverId: 'ds-a',
      playgroundId: 'pg-1',
      userId: 'ada',
      sessionMs: 1,
    });
    assert.equal(await deliveryNow(), 'stored');
    // Playground and everyone targets are never stored.
    assert.equal((await publish(app, { target: { playgroundId: 'pg-1' } })).body.data?.delivery, 'live');
    assert.equal((await publish(app, { target: { all: true } })).body.data?.delivery, 'live');
    // The lapsed-presence event and the after-leave event wait for the next join.
    assert.equal((await join(app, 'ada')).body.data?.inbox.length, 2);
    const sample = (delivery: string) =>
      metricValue(app, `plexus_backend_events_published_total{delivery="${delivery}",component="backend"}`);
    assert.equal(await sample('live'), 5);
    assert.equal(await sample('stored'), 2);
  },
);

describe('events.publish input', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('events'));
  });
  after(() => backend.close());

  test('the operator RPC needs the operator key, the partner RPC the partner key', async () => {
    const body = { target: { all: true }, type: 't', payload: null };
    const operatorUrl = '/api/v0/operatorRpc/events.publish';
    assert.deepEqual(failure(await post(backend.app, operatorUrl, body)), code('OPERATOR_KEY_REQUIRED'));
    assert.deepEqual(
      failure(await post(backend.app, operatorUrl, body, PARTNER_KEY)),
      code('OPERATOR_KEY_REQUIRED'),
    );
    const partnerUrl = '/api/v0/partnerRpc/events.publish';
    const serverBody = { ...body, serverId: 'ds-a' };
    assert.deepEqual(
      failure(await post(backend.app, partnerUrl, serverBody, OPERATOR_KEY)),
      code('AUTH_PARTNER_KEY_REQUIRED'),
    );
    assert.equal((await post(backend.app, operatorUrl, body, OPERATOR_KEY)).status, 200);
    assert.equal((await post(backend.app, partnerUrl, serverBody, PARTNER_KEY)).status, 200);
  });

  test('targets name exactly one of userId, playgroundId, all; types are 1-64 safe characters', async () => {
    const bad: Record<string, unknown>[] = [
      { target: {} },
      { target: { userId: 'a', playgroundId: 'pg-1' } },
      { target: { all: false } },
      { target: { all: true, userId: 'a' } },
      { target: { userId: '' } },
      { target: { everyone: true } },
      { type: '' },
      { type: 'x'.repeat(65) },
      { type: 'has space' },
      { type: 'émoji' },
      { fromUserId: 'bob' },
      { serverId: 'ds-a' },
    ];
    for (const body of bad) {
      const res = await publish(backend.app, { target: { all: true }, ...body });
      assert.deepEqual(failure(res), code('COMMON_BAD_REQUEST'), JSON.stringify(body));
    }
    const noServer = await partnerRpc(backend.app, 'events.publish', {
      target: { all: true },
      type: 't',
      payload: 1,
    });
    assert.deepEqual(failure(noServer), code('COMMON_BAD_REQUEST'));
    const ok = await publish(backend.app, { target: { all: true }, type: 'A.z_0-9:x' });
    assert.equal(ok.status, 200);
  });

  test('a payload above EVENT_MAX_PAYLOAD_BYTES is EVENT_TOO_LARGE', async () => {
    // JSON of the string: its characters plus two quotes.
    const payload = (bytes: number) => 'x'.repeat(bytes - 2);
    const tooLarge = await publish(backend.app, {
      target: { all: true },
      payload: payload(EVENT_MAX_PAYLOAD_BYTES + 1),
    });
    assert.deepEqual(failure(tooLarge), code('EVENT_TOO_LARGE'));
    const fits = await publish(backend.app, {
      target: { all: true },
      payload: payload(EVENT_MAX_PAYLOAD_BYTES),
    });
    assert.equal(fits.status, 200);
  });
});
