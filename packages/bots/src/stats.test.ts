import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram, percentile, SendLog } from './stats.ts';

test('percentile is nearest-rank over the samples', () => {
  const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(samples, 50), 50);
  assert.equal(percentile(samples, 99), 99);
  assert.equal(percentile(samples, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('the latency histogram gives percentiles to 0.1 ms and merges across processes', () => {
  const h = new LatencyHistogram(1000);
  for (let ms = 1; ms <= 100; ms++) h.record(ms - 0.05);
  assert.equal(h.count, 100);
  assert.ok(Math.abs(h.percentile(50) - 50) < 0.11);
  assert.ok(Math.abs(h.percentile(99) - 99) < 0.11);
  h.record(5000); // beyond the range: the overflow bin
  assert.ok(h.percentile(100) > 1000);

  const other = LatencyHistogram.fromSparse(h.toSparse(), 1000);
  other.merge(h);
  assert.equal(other.count, 202);
  assert.ok(Math.abs(other.percentile(50) - h.percentile(50)) < 1e-9);
  h.reset();
  assert.ok(Number.isNaN(h.percentile(50)));
});

test('the send log matches a received position to the newest send of it, within the tolerance', () => {
  const log = new SendLog(4, 8);
  for (let i = 0; i < 20; i++) log.record(2, i * 0.1, -i * 0.1, 1000 + i * 50);
  assert.equal(log.match(2, 1.9004, -1.8996, 0.01), 1950); // newest, quantised by the server
  assert.equal(log.match(2, 1.3, -1.3, 0.01), 1650);
  assert.ok(Number.isNaN(log.match(2, 0.5, -0.5, 0.01)), 'older than the ring');
  assert.ok(Number.isNaN(log.match(1, 1.9, -1.9, 0.01)), 'another slot');
  assert.ok(Number.isNaN(log.match(2, 1.95, -1.95, 0.01)), 'not a sent position');
});
