import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Walker } from './walk.ts';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('a walker deploys to a point of the square, then stays inside it at its cruising speed', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const random = seeded(seed);
    const w = new Walker(2, -3, { spread: 50 }, random);
    assert.ok(w.speedMps >= 1.5 && w.speedMps <= 3);
    let steps = 0;
    let x = w.x;
    let z = w.z;
    while (w.deploying) {
      w.step(0.05, random);
      assert.ok(Math.hypot(w.x - x, w.z - z) <= 40 * 0.05 + 1e-9, 'deploy speed');
      x = w.x;
      z = w.z;
      assert.ok(++steps < 1000);
    }
    for (let i = 0; i < 5000; i++) {
      w.step(0.05, random);
      assert.ok(Math.abs(w.x) <= 25 && Math.abs(w.z) <= 25, `inside the square: ${w.x}, ${w.z}`);
      assert.ok(Math.hypot(w.x - x, w.z - z) <= w.speedMps * 0.05 + 1e-9, 'never faster than its speed');
      x = w.x;
      z = w.z;
    }
  }
});

test('a walker spreads over a large square and its rotation is a unit yaw quaternion', () => {
  const random = seeded(7);
  const xs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const w = new Walker(0, 0, { spread: 1000 }, random);
    while (w.deploying) w.step(0.05, random);
    xs.push(w.x);
    const q = w.rotationY();
    assert.ok(Math.abs(Math.hypot(q.x, q.y, q.z, q.w) - 1) < 1e-12);
  }
  assert.ok(Math.min(...xs) < -300 && Math.max(...xs) > 300, 'reaches far from the spawn point');
});
