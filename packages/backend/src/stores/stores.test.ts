import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachEngine } from '../storage/engines.test-support.ts';
import type { SqlDb } from '../storage/sql-db.ts';
import { SqlRepository } from '../storage/sql-repository.ts';
import { AnalyticsStore } from './analytics-store.ts';
import { CatalogueStore, type NewCatalogueRecord } from './catalogue-store.ts';
import { PartyStore } from './party-store.ts';
import { instanceId, parseInstanceId } from './seat-policy.ts';
import { AutoPool, CataloguePool, seatGroup, seatUser } from './seat-pools.ts';

// The catalogue, party, seat and analytics stores on both engines, without HTTP in between.

const playground = (id: string, extra: Partial<NewCatalogueRecord> = {}): NewCatalogueRecord => ({
  id,
  name: id,
  type: 'expo',
  capacity: 2,
  visibility: 'public',
  tags: [],
  region: '',
  maxInstances: 2,
  inviteCode: null,
  createdAt: 1000,
  ...extra,
});

async function addUsers(db: SqlDb, ...ids: string[]): Promise<void> {
  const repo = new SqlRepository(db);
  for (const id of ids) {
    await repo.createUser({
      id,
      email: null,
      passwordHash: null,
      isGuest: true,
      firstName: id,
      lastName: '',
      createdAt: 1,
    });
  }
}

forEachEngine('catalogue: create once, filter by tags in SQL, patch, close once', async (db) => {
  const store = new CatalogueStore(db);
  assert.equal(await store.create(playground('a', { tags: ['x', 'y'], region: 'eu' })), true);
  assert.equal(await store.create(playground('a')), false, 'the id is taken');
  await store.create(
    playground('b', { tags: ['y'], createdAt: 500, visibility: 'private', inviteCode: 'CODE' }),
  );
  await store.create(playground('c', { type: 'other' }));

  const ids = async (filter: Parameters<CatalogueStore['list']>[0]) =>
    (await store.list(filter)).map((r) => r.id);
  assert.deepEqual(await ids({ order: 'id', limit: 10 }), ['a', 'b', 'c']);
  assert.deepEqual(await ids({ order: 'age', limit: 10, type: 'expo' }), ['b', 'a']);
  assert.deepEqual(await ids({ order: 'id', limit: 10, tags: ['y'] }), ['a', 'b']);
  assert.deepEqual(await ids({ order: 'id', limit: 10, tags: ['x', 'y'] }), ['a']);
  assert.deepEqual(await ids({ order: 'id', limit: 10, visibility: 'public', region: 'eu' }), ['a']);
  assert.deepEqual(await ids({ order: 'id', limit: 1, afterId: 'a' }), ['b']);
  assert.equal((await store.findByInviteCode('CODE'))?.id, 'b');

  const patched = await store.update('a', { tags: ['z'], capacity: 9, name: undefined }, 2000);
  assert.deepEqual(
    [patched?.tags, patched?.capacity, patched?.name, patched?.updatedAt],
    [['z'], 9, 'a', 2000],
  );
  assert.deepEqual(await ids({ order: 'id', limit: 10, tags: ['y'] }), ['b']);
  assert.equal(await store.update('nope', { capacity: 1 }, 1), undefined);

  assert.equal((await store.close('a', 3000))?.closedAt, 3000);
  assert.equal((await store.close('a', 4000))?.closedAt, 3000);
  assert.deepEqual(await ids({ order: 'id', limit: 10 }), ['b', 'c']);
  assert.deepEqual(await ids({ order: 'id', limit: 10, includeClosed: true }), ['a', 'b', 'c']);
});

forEachEngine(
  'seats: lowest instance with room; a group fits whole or not at all; stale seats free room',
  async (db) => {
    await addUsers(db, 'u1', 'u2', 'u3', 'u4', 'u5');
    const store = new CatalogueStore(db);
    await store.create(playground('hall', { capacity: 2, maxInstances: 2 }));
    const record = await store.get('hall');
    assert.ok(record);
    const pool = new CataloguePool(record);
    const seat = (userId: string, now: number, prefer?: string) =>
      db.transaction((tx) => seatUser(tx, pool, { userId, now, freshAfter: now - 100, prefer }));

    assert.deepEqual(await seat('u1', 1000), { playgroundId: 'hall', outcome: 'opened' });
    assert.deepEqual(await seat('u2', 1000), { playgroundId: 'hall', outcome: 'joined' });
    assert.deepEqual(await seat('u3', 1000), { playgroundId: 'hall#2', outcome: 'opened' });
    assert.deepEqual(await seat('u1', 1050), { playgroundId: 'hall', outcome: 'kept' });
    // u3 asks for the first instance, which is full: it keeps the seat it has.
    assert.deepEqual(await seat('u3', 1050, 'hall'), { playgroundId: 'hall#2', outcome: 'kept' });
    const group = (userIds: string[], now: number) =>
      db.transaction((tx) => seatGroup(tx, pool, { userIds, partyId: 'p', now, freshAfter: now - 100 }));
    assert.equal(await group(['u4', 'u5'], 1050), undefined, 'one seat left in #2: the pair is not split');
    // At 1101 u2's seat (1000) is stale, u1's and u3's (1050) are not: each instance has one seat left.
    assert.equal(await group(['u2', 'u4'], 1101), undefined);
    // At 1151 every seat is stale: the pair opens instance 1.
    assert.deepEqual(await group(['u4', 'u5'], 1151), { playgroundId: 'hall', seated: 0 });

    const auto = new AutoPool('lobby', 2, 5000);
    const autoSeat = (userId: string) =>
      db.transaction((tx) => seatUser(tx, auto, { userId, now: 5000, freshAfter: 4000 }));
    assert.deepEqual(
      [await autoSeat('u1'), await autoSeat('u2'), await autoSeat('u3')].map((s) => s?.playgroundId),
      ['public-lobby-1', 'public-lobby-1', 'public-lobby-2'],
    );
    assert.equal(
      await db.transaction((tx) =>
        seatGroup(tx, auto, { userIds: ['u1', 'u2', 'u3'], partyId: 'p', now: 5000, freshAfter: 4000 }),
      ),
      undefined,
      'a group over the auto capacity',
    );
  },
);

test('instance ids', () => {
  assert.equal(instanceId('hall', 1), 'hall');
  assert.equal(instanceId('hall', 12), 'hall#12');
  assert.deepEqual(parseInstanceId('hall'), { base: 'hall', instance: 1 });
  assert.deepEqual(parseInstanceId('hall#12'), { base: 'hall', instance: 12 });
  for (const bad of ['hall#1', 'hall#01', 'hall#', 'hall#x', 'hall#1234567']) {
    assert.ok(Number.isNaN(parseInstanceId(bad).instance), bad);
  }
});

forEachEngine('parties: one per user, bounded, leadership passes, empty ones vanish', async (db) => {
  await addUsers(db, 'a', 'b', 'c', 'd');
  const parties = new PartyStore(db);
  assert.equal(await parties.create({ id: 'p1', code: 'AAAA', userId: 'a', now: 1 }), true);
  assert.equal(await parties.create({ id: 'p2', code: 'AAAA', userId: 'b', now: 2 }), false, 'code taken');
  assert.deepEqual(
    await parties.join('AAAA', 'b', 2, 3).then((o) => ('party' in o ? o.party.members.length : o)),
    2,
  );
  assert.deepEqual(await parties.join('AAAA', 'c', 2, 4), { refused: 'full' });
  assert.deepEqual(await parties.join('ZZZZ', 'c', 2, 4), { refused: 'not-found' });
  assert.deepEqual(await parties.memberIds(db, 'p1'), ['a', 'b']);
  assert.equal(await parties.leave('a', 5), true);
  assert.equal((await parties.ofUser('b'))?.leaderId, 'b');
  // b creates another party: the old one is left empty and deleted.
  assert.equal(await parties.create({ id: 'p3', code: 'BBBB', userId: 'b', now: 6 }), true);
  assert.equal(await parties.memberIds(db, 'p1'), undefined);
  assert.equal(await parties.leave('d', 7), false);
});

forEachEngine('analytics: a batch is appended whole and read back in (at, id) pages', async (db) => {
  const store = new AnalyticsStore(db);
  const row = (id: string, at: number) => ({
    id,
    type: 'population',
    at,
    userId: null,
    playgroundId: 'p',
    serverId: 's',
    players: 3,
    sessionMs: null,
    reason: null,
    data: '{"players":3}',
    recordedAt: 9,
  });
  await store.append(
    Array.from({ length: 250 }, (_, i) => row(`e${String(i).padStart(3, '0')}`, 1000 + (i % 10))),
  );
  await assert.rejects(store.append([row('x1', 1), row('e000', 1)]), 'a duplicate id fails the batch');
  assert.equal(
    (await store.page({ from: 0, to: 10_000, limit: 1000 })).length,
    250,
    'nothing of the failed batch',
  );
  const first = await store.page({ from: 0, to: 10_000, limit: 3 });
  assert.deepEqual(
    first.map((r) => [r.at, r.id]),
    [
      [1000, 'e000'],
      [1000, 'e010'],
      [1000, 'e020'],
    ],
  );
  const last = first.at(-1);
  const next = await store.page({
    from: 0,
    to: 10_000,
    limit: 2,
    after: last && { at: last.at, id: last.id },
  });
  assert.deepEqual(
    next.map((r) => r.id),
    ['e030', 'e040'],
  );
  assert.deepEqual(first[0], row('e000', 1000));
});
