import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleReclaim, QUIET_UTILISATION } from './idle-reclaim.ts';

const MiB = 2 ** 20;

/** A process whose memory, loop and clock the test sets; a collect gives back `freed` bytes. */
function fakeProcess(rss: number) {
  const p = {
    rss,
    busy: 0,
    nowMs: 0,
    freed: 0,
    collects: 0,
    probes: {
      rss: () => p.rss,
      utilisation: () => p.busy,
      now: () => p.nowMs,
      collect: () => {
        p.collects++;
        p.rss -= p.freed;
        p.nowMs += 90;
      },
    },
  };
  return p;
}

/** `n` seconds of checks; the reclaims they ran. */
function seconds(r: IdleReclaim, p: ReturnType<typeof fakeProcess>, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) {
    p.nowMs += 1000;
    const done = r.check();
    if (done) out.push(done);
  }
  return out;
}

const OPTIONS = { growthBytes: 16 * MiB, quietS: 5, minIntervalS: 60 };

test('after a burst, one reclaim once the loop has been quiet for quietS seconds', () => {
  const p = fakeProcess(100 * MiB);
  const r = new IdleReclaim(OPTIONS, p.probes);
  // The burst: memory grows while the loop is busy.
  p.rss = 140 * MiB;
  p.busy = 0.6;
  assert.deepEqual(seconds(r, p, 30), [], 'never while busy');
  p.busy = QUIET_UTILISATION / 2;
  p.freed = 30 * MiB;
  assert.deepEqual(seconds(r, p, 4), [], 'not before five quiet seconds');
  const [done, ...more] = seconds(r, p, 30);
  assert.deepEqual(done, { pauseMs: 90, rssBefore: 140 * MiB, rssAfter: 110 * MiB });
  assert.deepEqual(more, [], 'once: nothing grew since');
  assert.equal(p.collects, 1);
});

test('a busy second restarts the quiet count; small growth never reclaims', () => {
  const p = fakeProcess(100 * MiB);
  const r = new IdleReclaim(OPTIONS, p.probes);
  p.rss = 115 * MiB;
  assert.deepEqual(seconds(r, p, 20), [], '15 MiB is under the growth that calls for it');
  p.rss = 120 * MiB;
  p.busy = 0.5;
  assert.deepEqual(seconds(r, p, 1), []);
  p.busy = 0;
  assert.deepEqual(seconds(r, p, 4), []);
  assert.equal(seconds(r, p, 1).length, 1, 'five quiet seconds after the busy one');
});

test('growth counts from the last reclaim; reclaims are at least minIntervalS apart; 0 turns it off', () => {
  const p = fakeProcess(100 * MiB);
  const r = new IdleReclaim(OPTIONS, p.probes);
  p.rss = 130 * MiB;
  p.freed = 5 * MiB;
  /** Seconds of checks until the next reclaim; the clock when it ran. */
  const untilReclaim = (limit: number) => {
    for (let i = 0; i < limit; i++) if (seconds(r, p, 1).length > 0) return p.nowMs;
    return null;
  };
  const first = untilReclaim(10);
  assert.ok(first !== null);
  // From 125 MiB: 140 is 15 MiB more, not enough; 150 is, but only a minute after the last.
  p.rss = 140 * MiB;
  assert.equal(untilReclaim(20), null);
  p.rss = 150 * MiB;
  const second = untilReclaim(100);
  assert.ok(second !== null && second - first >= 60_000 && second - first <= 61_100, `${second} − ${first}`);

  const off = fakeProcess(100 * MiB);
  const never = new IdleReclaim({ ...OPTIONS, growthBytes: 0 }, off.probes);
  off.rss = 1000 * MiB;
  assert.deepEqual(seconds(never, off, 100), []);
});
