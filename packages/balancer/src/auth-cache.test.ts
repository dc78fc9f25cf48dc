import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UserSimple } from '@plexus/protocol';
import { AuthCache } from './auth-cache.ts';

function user(id: string): UserSimple {
  return {
    id,
    firstName: 'Ada',
    lastName: 'Lovelace',
    privacyMode: 0,
    avatar: '',
    companyName: '',
    companyTitle: '',
  };
}

test('an entry is reused within the TTL and dropped after it', () => {
  let t = 0;
  const cache = new AuthCache({ ttlMs: 2_000, maxEntries: 10, now: () => t });
  cache.set('s1', user('u1'));
  t = 1_999;
  assert.equal(cache.get('s1')?.id, 'u1');
  t = 2_000;
  assert.equal(cache.get('s1'), undefined);
  assert.equal(cache.size, 0);
});

test('TTL 0 disables the cache', () => {
  const cache = new AuthCache({ ttlMs: 0, maxEntries: 10, now: () => 0 });
  cache.set('s1', user('u1'));
  assert.equal(cache.get('s1'), undefined);
  assert.equal(cache.size, 0);
});

test('the cache is bounded and evicts the oldest entry first', () => {
  const cache = new AuthCache({ ttlMs: 60_000, maxEntries: 3, now: () => 0 });
  for (const s of ['s1', 's2', 's3']) cache.set(s, user(s));
  cache.set('s1', user('s1')); // refreshed: now the newest
  cache.set('s4', user('s4'));
  assert.equal(cache.size, 3);
  assert.equal(cache.get('s2'), undefined);
  assert.deepEqual(
    ['s1', 's3', 's4'].map((s) => cache.get(s)?.id),
    ['s1', 's3', 's4'],
  );
});

test('distinct session ids never share an entry', () => {
  const cache = new AuthCache({ ttlMs: 60_000, maxEntries: 10, now: () => 0 });
  cache.set('s1', user('u1'));
  assert.equal(cache.get('s2'), undefined);
  assert.equal(cache.get('s1')?.id, 'u1');
});
