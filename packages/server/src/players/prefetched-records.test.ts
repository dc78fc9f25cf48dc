import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlayerRecordMessage } from '@plexus/protocol';
import { PrefetchedRecords } from './prefetched-records.ts';

const message = (jti: string, userId = 'u', playgroundId = 'pg'): PlayerRecordMessage => ({
  type: 'playerRecord',
  jti,
  userId,
  playgroundId,
  record: { userId, playgroundId, position: { x: 1, y: 0, z: 2 }, rotation: null, data: {}, updatedAt: 0 },
});

test('a record serves its own ticket, user and playground once, and only while fresh', () => {
  let now = 0;
  const records = new PrefetchedRecords(() => now);
  records.put(message('a'));
  assert.equal(records.take('a', 'someone-else', 'pg'), undefined);
  assert.equal(records.take('a', 'u', 'pg'), undefined, 'a record offered to another user is gone');
  records.put(message('b'));
  assert.deepEqual(records.take('b', 'u', 'pg')?.position, { x: 1, y: 0, z: 2 });
  assert.equal(records.take('b', 'u', 'pg'), undefined, 'taken once');
  records.put({ ...message('none'), record: null });
  assert.equal(records.take('none', 'u', 'pg'), null, 'null: the user has no record');
  records.put(message('old'));
  now = 30_000;
  assert.equal(records.take('old', 'u', 'pg'), undefined);
  records.put(message('stale'));
  now = 60_000;
  records.put(message('fresh'));
  assert.equal(records.size, 1, 'stale records are dropped as new ones come');
});

test('the records kept are bounded: the oldest go first', () => {
  const records = new PrefetchedRecords(() => 0);
  for (let i = 0; i < 5_000; i++) records.put(message(`jti-${i}`));
  assert.equal(records.size, 4_096);
  assert.equal(records.take('jti-0', 'u', 'pg'), undefined);
  assert.notEqual(records.take('jti-4999', 'u', 'pg'), undefined);
});

test('a HELLO that came first gets its record when it arrives, and only its own', async () => {
  const records = new PrefetchedRecords(() => 0);
  const waiting = records.arrival('late', 'u', 'pg');
  records.put(message('other-ticket'));
  records.put(message('late'));
  assert.deepEqual((await waiting.record)?.position, { x: 1, y: 0, z: 2 });
  assert.equal(records.take('late', 'u', 'pg'), undefined, 'handed to the waiting HELLO, not kept');

  records.put(message('early'));
  assert.notEqual(await records.arrival('early', 'u', 'pg').record, undefined, 'already there');

  const cancelled = records.arrival('gone', 'u', 'pg');
  cancelled.cancel();
  records.put(message('gone'));
  assert.notEqual(records.take('gone', 'u', 'pg'), undefined, 'kept once nobody waits');
  let settled = false;
  void records.arrival('mismatch', 'u', 'pg').record.then(() => {
    settled = true;
  });
  records.put(message('mismatch', 'intruder'));
  await Promise.resolve();
  assert.equal(settled, false, 'a record for another user never serves this HELLO');
});
