import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTransform, initialMotion, normaliseRotation, positionInBounds } from './transform-rules.ts';

const ID = { x: 0, y: 0, z: 0, w: 1 };

test('positions must be finite and inside the world bounds', () => {
  assert.equal(positionInBounds({ x: 10_000, y: 10_000, z: -10_000 }), true);
  assert.equal(positionInBounds({ x: 0, y: -1_000, z: 0 }), true);
  assert.equal(positionInBounds({ x: 10_000.5, y: 0, z: 0 }), false);
  assert.equal(positionInBounds({ x: 0, y: 0, z: -10_001 }), false);
  assert.equal(positionInBounds({ x: 0, y: -1_000.1, z: 0 }), false);
  assert.equal(positionInBounds({ x: 0, y: 10_000.1, z: 0 }), false);
  assert.equal(positionInBounds({ x: Number.NaN, y: 0, z: 0 }), false);
  assert.equal(positionInBounds({ x: 0, y: Number.POSITIVE_INFINITY, z: 0 }), false);
});

test('rotations are normalised when their length is within 0.5..1.5, refused otherwise', () => {
  const q = normaliseRotation({ x: 0, y: 0, z: 0, w: 1.2 });
  assert.deepEqual(q, { x: 0, y: 0, z: 0, w: 1 });
  const r = normaliseRotation({ x: 0.5, y: 0.5, z: 0.5, w: 0.5 });
  assert.ok(r && Math.abs(Math.hypot(r.x, r.y, r.z, r.w) - 1) < 1e-12);
  assert.equal(normaliseRotation({ x: 0, y: 0, z: 0, w: 0.49 }), null);
  assert.equal(normaliseRotation({ x: 0, y: 0, z: 0, w: 1.51 }), null);
  assert.equal(normaliseRotation({ x: Number.NaN, y: 0, z: 0, w: 1 }), null);
});

test('a move within the speed limit is accepted and advances the motion state', () => {
  const motion = initialMotion({ x: 0, y: 0, z: 0 }, 0, 50);
  // 20 Hz at 50 m/s: 2.5 m every 50 ms, for 10 s.
  for (let i = 1; i <= 200; i++) {
    const v = checkTransform({ x: 2.5 * i, y: 0, z: 0 }, ID, motion, 50 * i, 50);
    assert.equal(v.ok, true, `step ${i}`);
  }
  assert.deepEqual(motion.position, { x: 500, y: 0, z: 0 });
});

test('jitter is absorbed: moves arriving bunched at the same instant pass', () => {
  const motion = initialMotion({ x: 0, y: 0, z: 0 }, 0, 50);
  let t = 0;
  for (let i = 1; i <= 100; i++) {
    // Pairs of moves arrive together every 100 ms.
    if (i % 2 === 1) t += 100;
    assert.equal(checkTransform({ x: 2.5 * i, y: 0, z: 0 }, ID, motion, t, 50).ok, true, `step ${i}`);
  }
});

test('a teleport or a sustained speed above the limit is refused', () => {
  const motion = initialMotion({ x: 0, y: 0, z: 0 }, 0, 50);
  const jump = checkTransform({ x: 100, y: 0, z: 0 }, ID, motion, 50, 50);
  assert.deepEqual(jump, { ok: false, reason: 'speed' });
  assert.deepEqual(motion.position, { x: 0, y: 0, z: 0 }, 'a refused move changes nothing');

  const fast = initialMotion({ x: 0, y: 0, z: 0 }, 0, 50);
  let refused = 0;
  // 75 m/s sustained (3.75 m per 50 ms): the slack runs out and moves get refused.
  let x = 0;
  for (let i = 1; i <= 40; i++) {
    const v = checkTransform({ x: x + 3.75, y: 0, z: 0 }, ID, fast, 50 * i, 50);
    if (v.ok) x += 3.75;
    else refused++;
  }
  assert.ok(refused > 0);
  assert.ok(x <= 50 * 2 + 25 + 1e-9, `travelled ${x} m in 2 s`);
});

test('out-of-bounds positions and bad rotations name their reason', () => {
  const motion = initialMotion({ x: 0, y: 0, z: 0 }, 0, 50);
  assert.deepEqual(checkTransform({ x: 0, y: -2000, z: 0 }, ID, motion, 10, 50), {
    ok: false,
    reason: 'position',
  });
  assert.deepEqual(checkTransform({ x: 0, y: 0, z: 0 }, { x: 0, y: 0, z: 0, w: 0 }, motion, 10, 50), {
    ok: false,
    reason: 'rotation',
  });
});
