import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ANALYTICS_MAX_BATCH, type AnalyticsEventInput, HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import { forEachEngine } from '../storage/engines.test-support.ts';
import {
  failure,
  OPERATOR_KEY,
  PARTNER_KEY,
  post,
  rpcUrl,
  startTestBackend,
  type TestBackend,
  tempRoot,
} from '../test-support.ts';
import {
  code,
  dataOf,
  guest,
  operatorRpc,
  partnerRpc,
  startMatchBackend,
} from './playgrounds.test-support.ts';

const root = tempRoot();
after(() => root.remove());

const T0 = Date.parse('2030-01-01T00:00:00Z');

const record = (app: FastifyInstance, body: unknown, key: string | null = PARTNER_KEY) =>
  partnerRpc<{ accepted: number }>(app, 'analytics.record', body, key);

interface ExportedEvent {
  id: string;
  type: string;
  at: number;
  userId: string | null;
  playgroundId: string | null;
  serverId: string | null;
  data: Record<string, unknown> | null;
  recordedAt: number;
}

/** analytics.export: the raw response and its parsed lines. */
async function exportEvents(app: FastifyInstance, body: Record<string, unknown>) {
  const response = await app.inject({
    method: 'POST',
    url: `${HttpPaths.operatorRpcPrefix}analytics.export`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_KEY}` },
    payload: JSON.stringify(body),
  });
  const lines = response.body === '' ? [] : response.body.trimEnd().split('\n');
  return {
    response,
    events: response.statusCode === 200 ? lines.map((l) => JSON.parse(l) as ExportedEvent) : [],
  };
}

forEachEngine(
  'summary: concurrent users from population samples, joins and sessions per playground, refusals',
  async (db, { t }) => {
    const { app } = await startMatchBackend(db, t);
    const ev = (
      type: string,
      at: number,
      playgroundId: string,
      data?: Record<string, unknown>,
    ): AnalyticsEventInput => ({
      type,
      at: T0 + at,
      playgroundId,
      ...(data ? { data } : {}),
    });
    const events: AnalyticsEventInput[] = [
      // Bucket 0 (0-999 ms): A's last sample is 7, B's 3 → 10.
      ev('population', 100, 'a', { players: 5 }),
      ev('population', 500, 'b', { players: 3 }),
      ev('population', 900, 'a', { players: 7 }),
      // Bucket 1: only A → 4. Bucket 2: no sample → 0.
      ev('population', 1500, 'a', { players: 4 }),
      ev('join', 10, 'a'),
      ev('join', 20, 'a'),
      ev('join', 30, 'a'),
      ev('join', 40, 'b'),
      ev('leave', 50, 'a', { sessionMs: 1000 }),
      ev('leave', 60, 'a', { sessionMs: 3000 }),
      ev('leave', 70, 'b'),
      ev('refused', 80, 'a', { reason: 'full' }),
      ev('refused', 81, 'a', { reason: 'full' }),
      ev('refused', 82, 'b', { reason: 'no_servers' }),
      ev('refused', 83, 'b'),
      // Outside [from, to): ignored.
      ev('join', -1, 'a'),
      ev('join', 3000, 'a'),
      ev('population', 3000, 'a', { players: 99 }),
    ];
    assert.deepEqual(dataOf(await record(app, { serverId: 'ds-1', events })), { accepted: events.length });

    const summary = dataOf(
      await operatorRpc(app, 'analytics.summary', { from: T0, to: T0 + 3000, bucketMs: 1000 }),
    );
    assert.deepEqual(summary, {
      from: T0,
      to: T0 + 3000,
      bucketMs: 1000,
      concurrentUsers: [
        { at: T0, users: 10 },
        { at: T0 + 1000, users: 4 },
        { at: T0 + 2000, users: 0 },
      ],
      playgrounds: [
        { playgroundId: 'a', joins: 3, leaves: 2, avgSessionMs: 2000 },
        { playgroundId: 'b', joins: 1, leaves: 0, avgSessionMs: null },
      ],
      refusals: [
        { reason: 'full', count: 2 },
        { reason: 'no_servers', count: 1 },
        { reason: null, count: 1 },
      ],
    });
  },
);

forEachEngine(
  'export streams NDJSON in time order, page after page, filtered and bounded',
  async (db, { t }) => {
    const { app } = await startMatchBackend(db, t);
    const total = 2500;
    for (let start = 0; start < total; start += ANALYTICS_MAX_BATCH) {
      const events = Array.from({ length: Math.min(ANALYTICS_MAX_BATCH, total - start) }, (_, i) => ({
        type: (start + i) % 5 === 0 ? 'join' : 'custom.tick',
        // Descending times inside a batch, and many events sharing one millisecond.
        at: T0 + Math.floor((total - start - i) / 3),
        userId: `u${start + i}`,
        data: { n: start + i },
      }));
      dataOf(await record(app, { events }));
    }
    const all = await exportEvents(app, { from: T0, to: T0 + 10_000 });
    assert.equal(all.response.statusCode, 200);
    assert.match(String(all.response.headers['content-type']), /^application\/x-ndjson/);
    assert.equal(all.events.length, total);
    assert.equal(new Set(all.events.map((e) => e.id)).size, total, 'no event twice across pages');
    for (let i = 1; i < total; i++) {
      const [prev, cur] = [all.events[i - 1] as ExportedEvent, all.events[i] as ExportedEvent];
      assert.ok(prev.at < cur.at || (prev.at === cur.at && prev.id < cur.id), `order at line ${i}`);
    }
    const sample = all.events.find((e) => e.userId === 'u7');
    assert.deepEqual(sample && { ...sample, id: '', recordedAt: 0 }, {
      id: '',
      type: 'custom.tick',
      at: T0 + Math.floor((total - 7) / 3),
      userId: 'u7',
      playgroundId: null,
      serverId: null,
      data: { n: 7 },
      recordedAt: 0,
    });

    const joins = await exportEvents(app, { from: T0, to: T0 + 10_000, types: ['join'] });
    assert.equal(joins.events.length, total / 5);
    assert.ok(joins.events.every((e) => e.type === 'join'));
    const limited = await exportEvents(app, { from: T0, to: T0 + 10_000, limit: 1200 });
    assert.deepEqual(
      limited.events.map((e) => e.id),
      all.events.slice(0, 1200).map((e) => e.id),
    );
    const window = await exportEvents(app, { from: T0 + 100, to: T0 + 200 });
    assert.ok(window.events.length > 0 && window.events.every((e) => e.at >= T0 + 100 && e.at < T0 + 200));
    const empty = await exportEvents(app, { from: T0 - 1000, to: T0 });
    assert.equal(empty.response.statusCode, 200);
    assert.equal(empty.response.body, '');
  },
);

describe('analytics.record', () => {
  let backend: TestBackend;
  before(async () => {
    backend = await startTestBackend(root.sub('record'));
  });
  after(() => backend.close());

  const event = (extra: Record<string, unknown> = {}) => ({
    type: 'join',
    at: T0,
    userId: 'u1',
    playgroundId: 'p#2',
    ...extra,
  });

  test('needs the partner key (the operator key is not one)', async () => {
    for (const key of [null, OPERATOR_KEY, 'nope']) {
      assert.deepEqual(
        failure(await record(backend.app, { events: [event()] }, key)),
        code('AUTH_PARTNER_KEY_REQUIRED'),
      );
    }
  });

  test("the batch's serverId (set by the balancer) wins over the events' own", async () => {
    const at = T0 + 50_000;
    const events = [event({ at, serverId: 'spoofed' }), event({ at, type: 'error', data: { code: 5001 } })];
    assert.deepEqual(dataOf(await record(backend.app, { serverId: 'ds-7', events })), { accepted: 2 });
    dataOf(await record(backend.app, { events: [event({ at, type: 'own', serverId: 'ds-own' })] }));
    const { events: stored } = await exportEvents(backend.app, { from: at, to: at + 1 });
    assert.deepEqual(stored.map((e) => [e.type, e.serverId]).sort(), [
      ['error', 'ds-7'],
      ['join', 'ds-7'],
      ['own', 'ds-own'],
    ]);
    assert.deepEqual(dataOf(await record(backend.app, { events: [] })), { accepted: 0 });
  });

  test('a bad event refuses the whole batch with COMMON_BAD_REQUEST naming it', async () => {
    const at = T0 + 60_000;
    const cases: [Record<string, unknown>, string][] = [
      [event({ type: 'Bad Type' }), 'events.1.type'],
      [event({ at: -1 }), 'events.1.at'],
      [event({ at: 1.5 }), 'events.1.at'],
      [event({ playgroundId: 'a b' }), 'events.1.playgroundId'],
      [event({ userId: '' }), 'events.1.userId'],
      [event({ data: { blob: 'x'.repeat(2040) } }), 'events.1.data'],
      [event({ data: [1] }), 'events.1.data'],
      [event({ type: 'population', data: {} }), 'events.1.data.players'],
      [event({ type: 'population', data: { players: -1 } }), 'events.1.data.players'],
      [event({ type: 'leave', data: { sessionMs: 'long' } }), 'events.1.data.sessionMs'],
      [event({ type: 'refused', data: { reason: 42 } }), 'events.1.data.reason'],
      [event({ extra: true }), 'events.1'],
    ];
    for (const [bad, field] of cases) {
      const res = await record(backend.app, {
        events: [event({ at }), { ...bad, at: bad.at === T0 ? at : bad.at }],
      });
      assert.deepEqual(failure(res), code('COMMON_BAD_REQUEST'), field);
      assert.ok(res.body.error.message.includes(`${field}:`), `${field} in ${res.body.error.message}`);
    }
    const tooMany = Array.from({ length: ANALYTICS_MAX_BATCH + 1 }, () => event({ at }));
    assert.deepEqual(failure(await record(backend.app, { events: tooMany })), code('COMMON_BAD_REQUEST'));
    assert.deepEqual(
      failure(await record(backend.app, { events: [], extra: 1 })),
      code('COMMON_BAD_REQUEST'),
    );
    assert.deepEqual(
      failure(await record(backend.app, { serverId: 'bad id', events: [] })),
      code('COMMON_BAD_REQUEST'),
    );
    const { events } = await exportEvents(backend.app, { from: at, to: at + 1 });
    assert.equal(events.length, 0, 'nothing of a refused batch is stored');
  });

  test('a full batch at the data limit fits the body limit', async () => {
    const at = T0 + 70_000;
    const blob = 'x'.repeat(2000);
    const events = Array.from({ length: ANALYTICS_MAX_BATCH }, (_, i) =>
      event({ at, userId: `u${i}`, data: { blob } }),
    );
    assert.deepEqual(dataOf(await record(backend.app, { serverId: 'ds-1', events })), {
      accepted: ANALYTICS_MAX_BATCH,
    });
  });

  test('summary and export refuse bad ranges', async () => {
    const day = 86_400_000;
    for (const body of [
      { from: T0, to: T0, bucketMs: 1000 },
      { from: T0, to: T0 + 32 * day, bucketMs: day },
      { from: T0, to: T0 + 1_001_000, bucketMs: 1000 },
      { from: T0, to: T0 + 1000, bucketMs: 999 },
      { from: T0, to: T0 + 1000 },
      { from: -1, to: T0, bucketMs: 1000 },
    ]) {
      assert.deepEqual(
        failure(await operatorRpc(backend.app, 'analytics.summary', body)),
        code('COMMON_BAD_REQUEST'),
      );
    }
    for (const body of [
      { from: T0, to: T0 - 1 },
      { from: T0, to: T0 + 367 * day },
      { from: T0, to: T0 + 1, types: [] },
      { from: T0, to: T0 + 1, types: ['Bad'] },
      { from: T0, to: T0 + 1, limit: 0 },
      { from: T0, to: T0 + 1, limit: 1_000_001 },
    ]) {
      const { response } = await exportEvents(backend.app, body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.equal(response.json().error.code, code('COMMON_BAD_REQUEST')[1]);
    }
  });
});

test('logins are recorded without waiting: written by the timer, and the rest on close', async () => {
  const backend = await startTestBackend(root.sub('logins'));
  try {
    const register = await post<{ user: { id: string } }>(backend.app, rpcUrl('auth.register'), {
      email: 'ada@example.com',
      password: 'correct horse',
      firstName: 'Ada',
    });
    const adaId = dataOf(register).user.id;
    const logins = () =>
      backend.db.all<{ user_id: string; data: string }>(
        "SELECT user_id, data FROM analytics_events WHERE type = 'login'",
      );
    // The flush timer (500 ms) writes it without any further request.
    const deadline = Date.now() + 5000;
    while ((await logins()).length === 0) {
      assert.ok(Date.now() < deadline, 'the login event was never written');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(
      (await logins()).map((r) => ({ ...r })),
      [{ user_id: adaId, data: '{"method":"register"}' }],
    );

    const ada = { email: 'ada@example.com', password: 'correct horse' };
    dataOf(await post(backend.app, rpcUrl('auth.login'), ada));
    const { user } = await guest(backend.app, 'Bob');
    await backend.app.close();
    const methods = (await logins()).map((r) => `${r.user_id}:${JSON.parse(r.data).method}`);
    assert.deepEqual(methods.sort(), [`${adaId}:login`, `${adaId}:register`, `${user.id}:guest`].sort());
  } finally {
    await backend.close();
  }
});
