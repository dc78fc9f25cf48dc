import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from './rate-limiter.ts';

test('token bucket allows the burst at once, then refuses', () => {
  const t = 0;
  const bucket = new TokenBucket(60, 120, () => t);
  for (let i = 0; i < 120; i++) assert.equal(bucket.take(), true, `frame ${i}`);
  assert.equal(bucket.take(), false);
});

test('token bucket refills at the sustained rate and never above the burst', () => {
  let t = 0;
  const bucket = new TokenBucket(60, 120, () => t);
  for (let i = 0; i < 120; i++) bucket.take();
  t += 1000; // one second: 60 tokens back
  for (let i = 0; i < 60; i++) assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  t += 3_600_000; // an hour idle still caps at the burst
  let n = 0;
  while (bucket.take()) n++;
  assert.equal(n, 120);
});

test('token bucket sustains exactly the configured rate', () => {
  let t = 0;
  const bucket = new TokenBucket(60, 2, () => t);
  let accepted = 0;
  // 120 frames per second for 10 s: only ~60/s pass.
  for (let i = 0; i < 1200; i++) {
    t += 1000 / 120;
    if (bucket.take()) accepted++;
  }
  assert.ok(accepted >= 598 && accepted <= 602, `accepted ${accepted}`);
});
