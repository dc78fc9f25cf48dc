import assert from 'node:assert/strict';
import { createLogger } from '@plexus/kit';
import type { PlaygroundCheckpoint, PlexusEventEnvelope } from '@plexus/protocol';
import { waitFor } from '@plexus/testkit';
import { pruneContinuity, startContinuityHousekeeping } from '../services/continuity-housekeeping.ts';
import { forEachEngine } from '../storage/engines.test-support.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import { deleteExpiredInboxEvents, putInboxEvent, takeInboxEvents } from './event-inbox-store.ts';
import { getPlayerRecord, upsertPlayerRecord } from './player-store.ts';
import { isPresent, removePresence, touchPresence } from './presence-store.ts';

const state = (nextEntityId: number): PlaygroundCheckpoint => ({
  type: 'open-world',
  nextEntityId,
  entities: [],
  avatars: [],
});

const event = (id: string): PlexusEventEnvelope => ({
  id,
  target: { userId: 'u1' },
  type: 'greet',
  payload: { n: id },
  from: { kind: 'operator' },
  at: 1,
});

forEachEngine('checkpoint claims bump the epoch and hand over the latest checkpoint', async (db) => {
  const store = new CheckpointStore(db);
  assert.deepEqual(await store.claim('ds-a', 'pg-1', 100), { epoch: 1, checkpoint: null });
  const write = { serverId: 'ds-a', playgroundId: 'pg-1', epoch: 1, version: 1, now: 110 };
  assert.deepEqual(await store.write({ ...write, stateJson: JSON.stringify(state(5)) }), { ok: true });

  const claimed = await store.claim('ds-b', 'pg-1', 120);
  assert.deepEqual(claimed, {
    epoch: 2,
    checkpoint: {
      playgroundId: 'pg-1',
      epoch: 1,
      version: 1,
      serverId: 'ds-a',
      state: state(5),
      savedAt: 110,
    },
  });
  assert.deepEqual(await store.status('pg-1'), {
    playgroundId: 'pg-1',
    epoch: 2,
    holderServerId: 'ds-b',
    claimedAt: 120,
    checkpoint: claimed.checkpoint,
  });
  assert.deepEqual(await store.status('pg-unknown'), {
    playgroundId: 'pg-unknown',
    epoch: 0,
    holderServerId: null,
    claimedAt: null,
    checkpoint: null,
  });
});

forEachEngine('a checkpoint write is fenced by epoch, holder and version', async (db) => {
  const store = new CheckpointStore(db);
  const stateJson = JSON.stringify(state(1));
  const write = (serverId: string, epoch: number, version: number) =>
    store.write({ serverId, playgroundId: 'pg-1', epoch, version, stateJson, now: 1 });

  assert.deepEqual(await write('ds-a', 1, 1), { ok: false, reason: 'not-claimed' });
  await store.claim('ds-a', 'pg-1', 1);
  assert.deepEqual(await write('ds-a', 1, 3), { ok: true });
  assert.deepEqual(await write('ds-a', 1, 3), { ok: false, reason: 'old-version', storedVersion: 3 });
  assert.deepEqual(await write('ds-a', 1, 2), { ok: false, reason: 'old-version', storedVersion: 3 });
  assert.deepEqual(await write('ds-x', 1, 4), { ok: false, reason: 'not-holder', holderServerId: 'ds-a' });

  await store.claim('ds-b', 'pg-1', 2);
  assert.deepEqual(await write('ds-a', 1, 4), { ok: false, reason: 'stale-epoch', currentEpoch: 2 });
  // The new holder continues the version sequence across epochs.
  assert.deepEqual(await write('ds-b', 2, 3), { ok: false, reason: 'old-version', storedVersion: 3 });
  assert.deepEqual(await write('ds-b', 2, 4), { ok: true });
  const status = await store.status('pg-1');
  assert.equal(status.checkpoint?.serverId, 'ds-b');
  assert.equal(status.checkpoint?.epoch, 2);
  assert.equal(status.checkpoint?.version, 4);
});

forEachEngine('racing claims and writes from two connections stay fenced', async (db, { open }) => {
  const a = new CheckpointStore(db);
  const b = new CheckpointStore(open());
  const claims = await Promise.all(
    Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim(`ds-${i}`, 'pg-race', i)),
  );
  // Every claim got its own epoch: 1..20, no two servers share one.
  assert.deepEqual(
    claims.map((c) => c.epoch).sort((x, y) => x - y),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  const holder = claims.findIndex((c) => c.epoch === 20);
  // Both connections write version 1 for the final epoch at once: exactly one is accepted.
  const stateJson = JSON.stringify(state(1));
  const writes = await Promise.all(
    [a, b].map((store) =>
      store.write({
        serverId: `ds-${holder}`,
        playgroundId: 'pg-race',
        epoch: 20,
        version: 1,
        stateJson,
        now: 1,
      }),
    ),
  );
  assert.equal(writes.filter((w) => w.ok).length, 1);
});

forEachEngine('player records keep fields a save leaves out and replace data whole', async (db) => {
  assert.equal(await getPlayerRecord(db, 'u1', 'pg-1'), null);
  await upsertPlayerRecord(
    db,
    'pg-1',
    { userId: 'u1', position: { x: 1, y: 2, z: 3 }, data: { score: 1, hat: 'red' } },
    10,
  );
  await upsertPlayerRecord(
    db,
    'pg-1',
    { userId: 'u1', rotation: { x: 0, y: 0, z: 0, w: 1 }, data: { score: 2 } },
    20,
  );
  await upsertPlayerRecord(db, 'pg-1', { userId: 'u1' }, 30);
  assert.deepEqual(await getPlayerRecord(db, 'u1', 'pg-1'), {
    userId: 'u1',
    playgroundId: 'pg-1',
    position: { x: 1, y: 2, z: 3 },
    rotation: { x: 0, y: 0, z: 0, w: 1 },
    data: { score: 2 },
    updatedAt: 30,
  });
  assert.equal(await getPlayerRecord(db, 'u1', 'pg-2'), null);
});

forEachEngine(
  'presence is fresh from its last refresh and a late leave of another server keeps it',
  async (db) => {
    await touchPresence(db, 'u1', 'pg-1', 'ds-a', 100);
    assert.equal(await isPresent(db, 'u1', 100), true);
    assert.equal(await isPresent(db, 'u1', 101), false);
    await touchPresence(db, 'u1', 'pg-1', 'ds-b', 200);
    await removePresence(db, 'u1', 'pg-1', 'ds-a');
    assert.equal(await isPresent(db, 'u1', 150), true);
    await removePresence(db, 'u1', 'pg-1', 'ds-b');
    assert.equal(await isPresent(db, 'u1', 0), false);
  },
);

forEachEngine(
  'the inbox returns unexpired events in order once and drops the oldest beyond its bound',
  async (db) => {
    for (let i = 1; i <= 5; i++) {
      const dropped = await db.transaction((tx) =>
        putInboxEvent(tx, 'u1', event(`e${i}`), i === 2 ? 50 : 1000, 4),
      );
      assert.equal(dropped, i === 5 ? 1 : 0);
    }
    await putInboxEvent(db, 'u2', event('other'), 1000, 4);
    const taken = await db.transaction((tx) => takeInboxEvents(tx, 'u1', 100));
    // e1 dropped by the bound, e2 expired at 50.
    assert.deepEqual(
      taken.map((e) => e.id),
      ['e3', 'e4', 'e5'],
    );
    assert.deepEqual(taken[0], event('e3'));
    assert.deepEqual(await takeInboxEvents(db, 'u1', 100), []);
    assert.equal(await deleteExpiredInboxEvents(db, 999), 0);
    assert.equal(await deleteExpiredInboxEvents(db, 1000), 1);
  },
);

forEachEngine('housekeeping deletes expired events and stale presence only', async (db) => {
  await putInboxEvent(db, 'u1', event('old'), 100, 10);
  await putInboxEvent(db, 'u1', event('new'), 300, 10);
  await touchPresence(db, 'u1', 'pg-1', 'ds-a', 100);
  await touchPresence(db, 'u2', 'pg-1', 'ds-a', 250);
  assert.deepEqual(await pruneContinuity(db, 200, 60), { inbox: 1, presence: 1 });
  assert.equal(await isPresent(db, 'u2', 0), true);
  assert.deepEqual(
    (await takeInboxEvents(db, 'u1', 200)).map((e) => e.id),
    ['new'],
  );
});

forEachEngine('the housekeeping timer prunes until stopped', async (db) => {
  await putInboxEvent(db, 'u1', event('expired'), 1, 10);
  const housekeeping = startContinuityHousekeeping({
    db,
    presenceTtlMs: 1_000,
    logger: createLogger({ component: 'backend', level: 'silent' }),
    intervalMs: 10,
  });
  try {
    const left = async () => (await db.all('SELECT seq FROM event_inbox')).length;
    await waitFor(async () => (await left()) === 0, { what: 'the expired event to be deleted' });
  } finally {
    await housekeeping.stop();
  }
});
