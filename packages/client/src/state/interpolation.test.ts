import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Interpolator, nlerpQuat, TickClock, TransformBuffer } from './interpolation.ts';

const Q = { x: 0, y: 0, z: 0, w: 1 };
const YAW_90 = { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 };
const at = (x: number) => ({ x, y: 0, z: 2 * x });

test('sampling between two samples interpolates position linearly and rotation along the arc', () => {
  const buffer = new TransformBuffer();
  buffer.push(100, at(0), Q);
  buffer.push(200, at(10), YAW_90);
  const mid = buffer.sample(150);
  assert.deepEqual(mid?.position, { x: 5, y: 0, z: 10 });
  // Half of a 90° yaw is 45°: (0, sin 22.5°, 0, cos 22.5°).
  assert.ok(Math.abs((mid?.rotation.y ?? 0) - Math.sin(Math.PI / 8)) < 1e-9);
  assert.ok(Math.abs((mid?.rotation.w ?? 0) - Math.cos(Math.PI / 8)) < 1e-9);
  assert.deepEqual(buffer.sample(125)?.position, { x: 2.5, y: 0, z: 5 });
});

test('sampling outside the buffered range clamps to the first or last sample', () => {
  const buffer = new TransformBuffer();
  assert.equal(buffer.sample(0), undefined);
  buffer.push(100, at(1), Q);
  buffer.push(200, at(2), Q);
  assert.deepEqual(buffer.sample(50)?.position, at(1));
  assert.deepEqual(buffer.sample(10_000)?.position, at(2));
});

test('the buffer is bounded: the oldest samples are dropped', () => {
  const buffer = new TransformBuffer(4);
  for (let i = 0; i < 10; i++) buffer.push(i * 50, at(i), Q);
  assert.equal(buffer.size, 4);
  // Oldest kept sample is i = 6 (t = 300): earlier times clamp to it.
  assert.deepEqual(buffer.sample(0)?.position, at(6));
});

test('samples out of order are dropped and same-time samples replace the newest', () => {
  const buffer = new TransformBuffer();
  buffer.push(100, at(1), Q);
  buffer.push(200, at(2), Q);
  buffer.push(150, at(99), Q);
  buffer.push(200, at(3), Q);
  assert.equal(buffer.size, 2);
  assert.deepEqual(buffer.sample(200)?.position, at(3));
});

test('after a pause the entity holds its place until one tick before the next sample', () => {
  const buffer = new TransformBuffer();
  buffer.push(0, at(0), Q);
  buffer.push(1000, at(1), Q, 50);
  assert.deepEqual(buffer.sample(500)?.position, at(0));
  assert.deepEqual(buffer.sample(950)?.position, at(0));
  assert.deepEqual(buffer.sample(975)?.position, at(0.5));
});

test('the interpolator samples delayMs in the past', () => {
  const interpolator = new Interpolator({ delayMs: 100 });
  interpolator.record(7, 1000, { position: at(0), rotation: Q });
  interpolator.record(7, 1050, { position: at(1), rotation: Q });
  assert.deepEqual(interpolator.sample(7, 1125)?.position, at(0.5));
  assert.equal(interpolator.sample(8, 1125), undefined);
  interpolator.delete(7);
  assert.equal(interpolator.has(7), false);
});

test('nlerp takes the shortest arc for quaternions of opposite sign', () => {
  const minusIdentity = { x: 0, y: 0, z: 0, w: -1 };
  const q = nlerpQuat(Q, minusIdentity, 0.5);
  assert.ok(Math.abs(Math.abs(q.w) - 1) < 1e-9);
});

test('the tick clock spaces ticks evenly and follows the least delayed arrivals', () => {
  const clock = new TickClock(20);
  assert.equal(clock.timeOf(10, 1000), 1000);
  // Tick 11 arrives late (jitter): still placed one interval after tick 10.
  assert.ok(Math.abs(clock.timeOf(11, 1080) - 1050) < 1);
  // Tick 12 arrives early: the clock moves earlier to it.
  assert.equal(clock.timeOf(12, 1090), 1090);
  // A jump of more than a second re-anchors.
  assert.equal(clock.timeOf(13, 9000), 9000);
});
