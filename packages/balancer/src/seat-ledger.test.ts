import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeatLedger } from './seat-ledger.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('a reservation holds a seat until it expires', () => {
  const c = clock();
  const ledger = new SeatLedger({ now: c.now });
  ledger.reserve({ jti: 'j1', serverId: 'a', playgroundId: 'p', expiresAtMs: c.now() + 30_000 });
  ledger.reserve({ jti: 'j2', serverId: 'a', playgroundId: 'q', expiresAtMs: c.now() + 10_000 });
  assert.equal(ledger.pendingFor('a'), 2);
  assert.equal(ledger.hasPendingFor('a', 'q'), true);
  c.advance(10_000);
  assert.equal(ledger.pendingFor('a'), 1);
  assert.equal(ledger.hasPendingFor('a', 'q'), false);
  c.advance(20_000);
  assert.equal(ledger.pendingFor('a'), 0);
  assert.deepEqual(ledger.pendingByServer(), new Map());
});

test('redemption releases the seat once, only for the server the ticket names', () => {
  const c = clock();
  const ledger = new SeatLedger({ now: c.now });
  ledger.reserve({ jti: 'j1', serverId: 'a', playgroundId: 'p', expiresAtMs: c.now() + 30_000 });
  assert.equal(ledger.redeem('b', 'j1'), undefined);
  assert.equal(ledger.pendingFor('a'), 1);
  assert.deepEqual(ledger.redeem('a', 'j1'), {
    jti: 'j1',
    serverId: 'a',
    playgroundId: 'p',
    expiresAtMs: c.now() + 30_000,
  });
  assert.equal(ledger.pendingFor('a'), 0);
  assert.equal(ledger.redeem('a', 'j1'), undefined);
});

test('an expired reservation cannot be redeemed', () => {
  const c = clock();
  const ledger = new SeatLedger({ now: c.now });
  ledger.reserve({ jti: 'j1', serverId: 'a', playgroundId: 'p', expiresAtMs: c.now() + 1_000 });
  c.advance(1_000);
  assert.equal(ledger.redeem('a', 'j1'), undefined);
});

test('sweep purges expired reservations and dropServer forgets a server', () => {
  const c = clock();
  const ledger = new SeatLedger({ now: c.now });
  ledger.reserve({ jti: 'j1', serverId: 'a', playgroundId: 'p', expiresAtMs: c.now() + 1_000 });
  ledger.reserve({ jti: 'j2', serverId: 'b', playgroundId: 'p', expiresAtMs: c.now() + 5_000 });
  ledger.reserve({ jti: 'j3', serverId: 'b', playgroundId: 'p', expiresAtMs: c.now() + 5_000 });
  c.advance(2_000);
  assert.equal(ledger.sweep(), 1);
  assert.deepEqual(ledger.pendingByServer(), new Map([['b', 2]]));
  ledger.dropServer('b');
  assert.equal(ledger.pendingFor('b'), 0);
});
