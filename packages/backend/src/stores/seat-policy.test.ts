import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseInstance, keepsOwnSeat, partyAnchor, seatOutcome } from './seat-policy.ts';

const hall = { id: 'hall', capacity: 2, maxInstances: 3 };

test('chooseInstance: the preferred instance when it has room, else the lowest with room', () => {
  const seated = new Map([
    [1, 2],
    [2, 1],
  ]);
  assert.deepEqual(chooseInstance(hall, seated, { count: 1 }), { playgroundId: 'hall#2', seated: 1 });
  assert.deepEqual(chooseInstance(hall, seated, { count: 2 }), { playgroundId: 'hall#3', seated: 0 });
  assert.deepEqual(chooseInstance(hall, seated, { count: 1, prefer: 'hall#3' }), {
    playgroundId: 'hall#3',
    seated: 0,
  });
  assert.deepEqual(chooseInstance(hall, seated, { count: 1, prefer: 'hall' }), {
    playgroundId: 'hall#2',
    seated: 1,
  });
  assert.equal(chooseInstance(hall, seated, { count: 1, prefer: 'hall', strict: true }), undefined);
  assert.equal(chooseInstance(hall, seated, { count: 3 }), undefined);
});

test('a held seat is kept unless another instance is asked for; outcomes name what happened', () => {
  const own = { playgroundId: 'hall#2', partyId: null };
  assert.equal(keepsOwnSeat(own, undefined), true);
  assert.equal(keepsOwnSeat(own, 'hall#2'), true);
  assert.equal(keepsOwnSeat(own, 'hall'), false);
  assert.equal(keepsOwnSeat(undefined, undefined), false);
  assert.equal(seatOutcome(own, { playgroundId: 'hall#2', seated: 1 }), 'kept');
  assert.equal(seatOutcome(undefined, { playgroundId: 'hall', seated: 0 }), 'opened');
  assert.equal(seatOutcome(own, { playgroundId: 'hall', seated: 1 }), 'joined');
});

test('a party sits where most of it is; the catalogue wins a tie', () => {
  const catalogue = { catalogueId: 'hall', instance: 2, seats: 2 };
  const auto = { type: 'lobby', playgroundId: 'public-lobby-1', seats: 2 };
  assert.deepEqual(partyAnchor(catalogue, auto), {
    kind: 'catalogue',
    catalogueId: 'hall',
    playgroundId: 'hall#2',
  });
  assert.deepEqual(partyAnchor({ ...catalogue, seats: 1 }, auto), {
    kind: 'auto',
    type: 'lobby',
    playgroundId: 'public-lobby-1',
  });
  assert.equal(partyAnchor(undefined, undefined), undefined);
});
