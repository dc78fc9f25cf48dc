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

test('a full ring keeps its newest samples in order and its own copies, whatever the caller does with its objects', () => {
  const buffer = new TransformBuffer(3);
  const p = { x: 0, y: 0, z: 0 };
  const r = { ...Q };
  for (let i = 0; i < 7; i++) {
    p.x = i;
    r.y = i / 10;
    buffer.push(i * 50, p, r);
  }
  // The caller's objects changed after every push: the samples hold what they were at the time.
  p.x = 99;
  r.y = 99;
  assert.equal(buffer.size, 3);
  assert.deepEqual(
    [200, 225, 250, 275, 300].map((t) => buffer.sample(t)?.position.x),
    [4, 4.5, 5, 5.5, 6],
  );
  assert.equal(buffer.sample(300)?.rotation.y, 0.6);
  // A pause held through (holdGapMs) on a full ring: the repeated sample and the new one are the last.
  buffer.push(1000, at(7), Q, 100);
  assert.deepEqual(buffer.sample(900)?.position.x, 6);
  assert.deepEqual(buffer.sample(950)?.position.x, 6.5);
  assert.deepEqual(buffer.sample(250)?.position.x, 6, 'the oldest kept is the 300 ms one');
  buffer.clear();
  assert.equal(buffer.sample(0), undefined);
  buffer.push(10, at(1), Q);
  assert.deepEqual(buffer.sample(0)?.position, at(1));
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

/** A small deterministic PRNG (mulberry32) so the property tests are reproducible. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('interpolation of jittery ticks is monotonic and never overshoots what was received', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rnd = random(seed);
    const clock = new TickClock(20);
    const interpolator = new Interpolator({ delayMs: 100 });
    let x = 0;
    let received = 0;
    let lastSampled = -Infinity;
    let nextArrival = 1000;
    let tick = 0;
    // 3 s of 60 fps rendering while ticks arrive every 50 ms ± 40 ms of jitter; the entity moves
    // forward at a varying speed and sometimes stops for a while.
    for (let render = 1000; render < 4000; render += 1000 / 60) {
      while (nextArrival <= render) {
        tick++;
        x += rnd() < 0.2 ? 0 : rnd() * 0.5;
        received = x;
        const arrival = nextArrival + rnd() * 40;
        interpolator.record(7, clock.timeOf(tick, arrival), { position: at(x), rotation: Q }, 75);
        nextArrival += 50 + (rnd() < 0.1 ? 300 : 0);
      }
      const sampled = interpolator.sample(7, render)?.position.x;
      if (sampled === undefined) continue;
      assert.ok(sampled >= lastSampled - 1e-9, `seed ${seed}: went back from ${lastSampled} to ${sampled}`);
      assert.ok(sampled <= received + 1e-9, `seed ${seed}: ${sampled} overshoots ${received}`);
      assert.ok(sampled >= 0, `seed ${seed}: ${sampled} below the start`);
      lastSampled = sampled;
    }
  }
});

test('a sampled position always lies between two consecutive received positions', () => {
  const rnd = random(42);
  const buffer = new TransformBuffer();
  const xs: number[] = [];
  for (let i = 0; i < 30; i++) {
    const x = rnd() * 10 - 5;
    xs.push(x);
    buffer.push(i * 50, at(x), Q);
  }
  for (let t = 0; t <= 29 * 50; t += 7) {
    const i = Math.min(28, Math.floor(t / 50));
    const lo = Math.min(xs[i] as number, xs[i + 1] as number);
    const hi = Math.max(xs[i] as number, xs[i + 1] as number);
    const x = buffer.sample(t)?.position.x as number;
    assert.ok(x >= lo - 1e-9 && x <= hi + 1e-9, `t=${t}: ${x} outside [${lo}, ${hi}]`);
  }
});
