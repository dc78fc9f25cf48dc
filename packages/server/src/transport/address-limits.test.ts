import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressLimits } from './address-limits.ts';

test('address limits bound pending handshakes and open sockets per address', () => {
  const limits = new AddressLimits(3, 2);
  assert.equal(limits.open('a'), null);
  assert.equal(limits.open('a'), null);
  assert.equal(limits.open('a'), 'handshakes');
  assert.equal(limits.open('b'), null, 'other addresses are independent');
  limits.handshakeDone('a');
  assert.equal(limits.open('a'), null);
  limits.handshakeDone('a');
  limits.handshakeDone('a');
  assert.equal(limits.open('a'), 'sockets');
});

test('address limits forget an address when its last socket closes', () => {
  const limits = new AddressLimits(3, 2);
  limits.open('a');
  limits.open('b');
  limits.handshakeDone('a');
  limits.closed('a', false);
  limits.closed('b', true);
  assert.equal(limits.size, 0);
});
