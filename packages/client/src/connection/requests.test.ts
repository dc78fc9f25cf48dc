import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@plexus/protocol';
import { PlexusError } from '../errors.ts';
import { PendingRequests } from './requests.ts';

test('each request gets its own id and is settled by the RESULT with that id, in any order', async () => {
  const requests = new PendingRequests();
  const ids: number[] = [];
  const send = (id: number): boolean => {
    ids.push(id);
    return true;
  };
  const a = requests.open('a', send);
  const b = requests.open('b', send);
  assert.equal(new Set(ids).size, 2);
  assert.equal(requests.size, 2);
  const [idA, idB] = ids as [number, number];
  assert.equal(
    requests.settle({
      requestId: idB,
      code: ErrorCodes.PROTOCOL_AUTHORITY_HELD.code,
      value: 0,
      message: 'held by 4',
    }),
    true,
  );
  assert.equal(requests.settle({ requestId: idA, code: 0, value: 17, message: '' }), true);
  assert.deepEqual(await a, { ok: true, entityId: 17 });
  const outcome = await b;
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok && outcome.error instanceof PlexusError);
  assert.equal(!outcome.ok && outcome.error.name, 'PROTOCOL_AUTHORITY_HELD');
  assert.equal(!outcome.ok && outcome.error.message, 'held by 4');
  // A second RESULT for the same id, or an unknown id, is ignored.
  assert.equal(requests.settle({ requestId: idA, code: 0, value: 1, message: '' }), false);
  assert.equal(requests.size, 0);
});

test('a request without an answer times out with CLIENT_TIMEOUT and its late RESULT is ignored', async () => {
  const requests = new PendingRequests({ timeoutMs: 10 });
  let id = 0;
  const outcome = await requests.open('spawn', (rid) => {
    id = rid;
    return true;
  });
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.error.name, 'CLIENT_TIMEOUT');
  assert.equal(requests.settle({ requestId: id, code: 0, value: 1, message: '' }), false);
});

test('pending requests are bounded, fail when not sent, and all fail when the connection closes', async () => {
  const requests = new PendingRequests({ maxPending: 2 });
  const first = requests.open('1', () => true);
  const second = requests.open('2', () => true);
  const third = await requests.open('3', () => true);
  assert.equal(!third.ok && third.error.name, 'COMMON_RATE_LIMITED');
  const unsent = await new PendingRequests().open('x', () => false);
  assert.equal(!unsent.ok && unsent.error.name, 'CLIENT_CONNECTION_CLOSED');
  requests.failAll(PlexusError.of('CLIENT_CONNECTION_CLOSED'));
  for (const outcome of await Promise.all([first, second])) {
    assert.equal(!outcome.ok && outcome.error.name, 'CLIENT_CONNECTION_CLOSED');
  }
  assert.equal(requests.size, 0);
});
