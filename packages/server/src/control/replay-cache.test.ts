import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayCache } from './replay-cache.ts';

test('a ticket id is remembered until its expiry, then dropped', () => {
  let now = 1_000_000;
  const cache = new ReplayCache(10, () => now);
  assert.equal(cache.add('a', now + 30_000), true);
  assert.equal(cache.has('a'), true);
  now += 29_999;
  assert.equal(cache.has('a'), true);
  now += 1;
  assert.equal(cache.has('a'), false);
  assert.equal(cache.size, 0);
});

test('expired entries are pruned on insert, so the cache stays bounded', () => {
  let now = 0;
  const cache = new ReplayCache(3, () => now);
  for (let i = 0; i < 1000; i++) {
    assert.equal(cache.add(`t${i}`, now + 100), true);
    now += 50;
    assert.ok(cache.size <= 3);
  }
});

test('a cache full of live entries refuses new ids instead of forgetting one', () => {
  const now = 0;
  const cache = new ReplayCache(2, () => now);
  assert.equal(cache.add('a', 1000), true);
  assert.equal(cache.add('b', 1000), true);
  assert.equal(cache.add('c', 1000), false);
  assert.equal(cache.has('a'), true);
  assert.equal(cache.has('b'), true);
});

test('a long-lived entry in front does not keep expired ones behind it', () => {
  let now = 0;
  const cache = new ReplayCache(2, () => now);
  cache.add('long', 10_000);
  cache.add('short', 100);
  now = 200;
  assert.equal(cache.add('next', 1000), true);
  assert.equal(cache.has('long'), true);
  assert.equal(cache.has('short'), false);
});
