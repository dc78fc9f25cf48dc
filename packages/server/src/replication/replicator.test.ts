import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChunkLayout,
  decodeServerFrame,
  type EntityState,
  type EntityUpdate,
  type ErrorName,
  encodeState,
  type Quat,
  ServerOp,
  type StateFrame,
} from '@plexus/protocol';
import { Playground } from '../playground/playground.ts';
import { Replicator } from './replicator.ts';
import { type ReplicaClient, sendTick } from './send-tick.ts';

const ID = { x: 0, y: 0, z: 0, w: 1 };
const OPTIONS = { radiusM: 100, hysteresisM: 10, cellSizeM: 16 };

function decodeState(bytes: Uint8Array | null): StateFrame {
  assert.ok(bytes, 'expected a frame');
  const f = decodeServerFrame(bytes);
  assert.equal(f.op, ServerOp.STATE);
  const { op: _op, ...state } = f as { op: number } & StateFrame;
  return state;
}

function spawnAt(pg: Playground, owner: number, x: number, z: number): number {
  return pg.spawn({ owner, kind: 'avatar', position: { x, y: 0, z }, rotation: ID, props: { n: owner } }).id;
}

const ids = (xs: { id: number }[]) => xs.map((e) => e.id).sort((a, b) => a - b);

test('an entity enters interest at the radius and leaves only beyond radius + hysteresis', () => {
  const pg = new Playground('p');
  const rep = new Replicator(pg, OPTIONS);
  const me = spawnAt(pg, 1, 0, 0);
  const other = spawnAt(pg, 2, 150, 0);
  let tick = 0;
  const step = (x?: number) => {
    if (x !== undefined) pg.setTransform(other, { x, y: 0, z: 0 }, ID);
    rep.update(++tick);
    return rep.frameFor(1, me, tick === 1, ChunkLayout.WHOLE);
  };
  assert.deepEqual(ids(decodeState(step()).spawns), [me], 'own avatar always; 150 m is out');
  assert.equal(step(101), null, 'outside the radius: nothing (not even its cell, no one there is known)');
  const enter = decodeState(step(99.5));
  assert.deepEqual(ids(enter.spawns), [other], 'within 100 m: a spawn with its whole state');
  assert.deepEqual(enter.spawns[0]?.position, { x: 99.5, y: 0, z: 0 });
  const inBand = decodeState(step(109));
  assert.deepEqual(inBand.spawns, []);
  assert.deepEqual(inBand.removes, [], 'within the hysteresis band it stays');
  assert.deepEqual(inBand.updates, [{ id: other, position: { x: 109, y: 0, z: 0 } }]);
  const leave = decodeState(step(111));
  assert.deepEqual(leave.removes, [other], 'beyond 110 m it leaves');
  assert.equal(step(105), null, 'back in the band: no flicker back in');
  assert.deepEqual(ids(decodeState(step(100)).spawns), [other], 're-enters at the radius');
  assert.deepEqual([...rep.knownBy(1)].sort(), [me, other]);
});

test('an idle world sends nothing; removals reach exactly the clients that held the entity', () => {
  const pg = new Playground('p');
  const rep = new Replicator(pg, OPTIONS);
  const a = spawnAt(pg, 1, 0, 0);
  const b = spawnAt(pg, 2, 500, 0);
  const c = spawnAt(pg, 3, 20, 0);
  rep.update(1);
  rep.frameFor(1, a, true, ChunkLayout.PACKED);
  rep.frameFor(2, b, true, ChunkLayout.PACKED);
  rep.update(2);
  assert.equal(rep.frameFor(1, a, false, ChunkLayout.PACKED), null);
  assert.equal(rep.frameFor(2, b, false, ChunkLayout.PACKED), null);
  pg.remove(c);
  rep.update(3);
  assert.deepEqual(decodeState(rep.frameFor(1, a, false, ChunkLayout.PACKED)).removes, [c]);
  assert.equal(rep.frameFor(2, b, false, ChunkLayout.PACKED), null, 'b never saw c');
});

/** The reference: one client's frame computed the naive way, by brute force over every entity. */
class NaiveClient {
  readonly known = new Set<number>();
  readonly clientId: number;
  readonly avatarId: number;
  constructor(clientId: number, avatarId: number) {
    this.clientId = clientId;
    this.avatarId = avatarId;
  }

  frame(
    tick: number,
    all: EntityState[],
    updates: EntityUpdate[],
    removed: number[],
    cellSize: number,
  ): StateFrame {
    const self = all.find((e) => e.id === this.avatarId) as EntityState;
    const { x, z } = self.position;
    const outer = OPTIONS.radiusM + OPTIONS.hysteresisM;
    const spawns: EntityState[] = [];
    const removes: number[] = [];
    for (const id of removed) if (this.known.delete(id)) removes.push(id);
    const before = new Set(this.known);
    for (const e of all) {
      const d = Math.hypot(e.position.x - x, e.position.z - z);
      if (this.known.has(e.id)) {
        if (d > outer) {
          this.known.delete(e.id);
          removes.push(e.id);
        }
      } else if (d <= OPTIONS.radiusM) {
        this.known.add(e.id);
        spawns.push(e);
      }
    }
    // Updates: all those of every grid cell holding an entity the client kept this tick.
    const cellOf = (e: EntityState) =>
      `${Math.floor(e.position.x / cellSize)},${Math.floor(e.position.z / cellSize)}`;
    const keptCells = new Set(all.filter((e) => before.has(e.id) && this.known.has(e.id)).map(cellOf));
    const seen = updates.filter((u) => keptCells.has(cellOf(all.find((s) => s.id === u.id) as EntityState)));
    return { tick, keyframe: false, spawns, updates: seen, removes };
  }
}

const sorted = (f: StateFrame): StateFrame => ({
  ...f,
  spawns: [...f.spawns].sort((a, b) => a.id - b.id),
  updates: [...f.updates].sort((a, b) => a.id - b.id),
  removes: [...f.removes].sort((a, b) => a - b),
});

test('shared encoding: a frame assembled from shared cell bytes decodes to what a per-client encoder gives', () => {
  let seed = 11;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pg = new Playground('p');
  const rep = new Replicator(pg, OPTIONS);
  const avatars: number[] = [];
  for (let i = 1; i <= 60; i++) avatars.push(spawnAt(pg, i, (rand() - 0.5) * 400, (rand() - 0.5) * 400));
  const clients = avatars.slice(0, 30).map((id, i) => new NaiveClient(i + 1, id));
  const removed: number[] = [];
  let compared = 0;
  for (let tick = 1; tick <= 60; tick++) {
    // Random walks (some far jumps), a prop change, a late spawn and a removal.
    for (const id of avatars) {
      const e = pg.get(id);
      if (!e || rand() < 0.3) continue;
      const jump = rand() < 0.02 ? 150 : 6;
      const position = {
        x: e.position.x + (rand() - 0.5) * jump,
        y: rand() < 0.1 ? rand() * 3 : e.position.y,
        z: e.position.z + (rand() - 0.5) * jump,
      };
      const rotation = rand() < 0.5 ? { x: 0, y: Math.sin(tick), z: 0, w: Math.cos(tick) } : e.rotation;
      pg.setTransform(id, position, rotation);
    }
    if (tick === 20) pg.setProps(avatars[40] as number, { anim: 'wave' });
    if (tick === 25) avatars.push(spawnAt(pg, 99, 0, 0));
    if (tick === 30) {
      pg.remove(avatars[45] as number);
      removed.push(avatars[45] as number);
    }
    // What changed, as the reference sees it (read before the replicator takes the changes).
    const all = [...pg.all()].map((e) => ({ ...e }));
    const updates: EntityUpdate[] = [];
    for (const e of pg.all()) {
      if (e.changed === 0) continue;
      const u: EntityUpdate = { id: e.id };
      if (e.changed & 1) u.position = e.position;
      if (e.changed & 2) u.rotation = e.rotation;
      if (e.changed & 4) u.props = e.props;
      if (e.changed & 8) u.owner = e.owner;
      updates.push(u);
    }
    const removedNow = removed.splice(0);
    rep.update(tick);
    for (const c of clients) {
      // The version 2–3 layout is the reference encoder's (compact chunks: update-rates.test.ts).
      const actual = rep.frameFor(c.clientId, c.avatarId, false, ChunkLayout.WHOLE);
      const expected = c.frame(tick, all, updates, removedNow, OPTIONS.cellSizeM);
      const expectedEmpty =
        expected.spawns.length === 0 && expected.updates.length === 0 && expected.removes.length === 0;
      if (actual === null) {
        assert.ok(expectedEmpty, `client ${c.clientId} tick ${tick}: nothing sent but something was due`);
        continue;
      }
      assert.deepEqual(sorted(decodeState(actual)), sorted(decodeState(encodeState(expected))));
      compared++;
    }
  }
  assert.ok(compared > 500, `compared ${compared} frames`);
});

function fakeClient(clientId: number, avatarId: number) {
  const client = {
    clientId,
    avatarId,
    welcomed: false,
    needsKeyframe: false,
    stuckSince: null as number | null,
    bufferedAmount: 0,
    frames: [] as StateFrame[],
    refused: [] as string[],
    sendState(bytes: Uint8Array) {
      this.frames.push(decodeState(bytes));
    },
    sendWelcome(_pg: string, keyframe: Uint8Array) {
      this.sendState(keyframe);
      this.welcomed = true;
    },
    sendMoveAck() {},
    chunkLayout: ChunkLayout.PACKED as ChunkLayout,
    refuse(name: ErrorName) {
      this.refused.push(name);
    },
  };
  const asReplica: ReplicaClient = client;
  void asReplica;
  return client;
}

test('backpressure: a stalled client gets nothing queued, then a keyframe of what it sees, then deltas', () => {
  const pg = new Playground('p');
  const rep = new Replicator(pg, OPTIONS);
  const avatars = Array.from({ length: 50 }, (_, i) =>
    spawnAt(pg, i + 1, (i % 10) * 30, Math.floor(i / 10) * 30),
  );
  const far = spawnAt(pg, 0, 5000, 5000);
  const a = fakeClient(1, avatars[0] as number);
  const b = fakeClient(2, avatars[1] as number);
  const opts = { maxBufferedBytes: 1000, slowConsumerGraceMs: 5000 };
  let now = 0;
  let tick = 0;
  const step = () => {
    for (const id of avatars) {
      const e = pg.get(id);
      if (e) pg.setTransform(id, { x: e.position.x + 0.1, y: 0, z: e.position.z }, ID);
    }
    rep.update(++tick);
    return sendTick('p', [a, b], rep, now, opts);
  };
  step();
  assert.equal(a.frames.length, 1);
  a.bufferedAmount = 10_000;
  let skips = 0;
  for (let i = 0; i < 40; i++) {
    now += 50;
    skips += step().skips;
  }
  assert.equal(skips, 40, 'every tick skipped while stalled');
  assert.equal(a.frames.length, 1, 'nothing sent (and nothing queued) while stalled');
  assert.equal(b.frames.length, 41, 'others carry on');
  assert.ok(rep.knownBy(1).size <= 51, 'per-client state stays bounded by what it can see');
  a.bufferedAmount = 0;
  now += 50;
  step();
  const key = a.frames[1] as StateFrame;
  assert.equal(key.keyframe, true, 'a fresh keyframe once drained');
  const self = pg.get(a.avatarId) as EntityState;
  const expected = [...pg.all()]
    .filter((e) => Math.hypot(e.position.x - self.position.x, e.position.z - self.position.z) <= 100)
    .map((e) => e.id)
    .sort((x, y) => x - y);
  assert.deepEqual(ids(key.spawns), expected, 'exactly what it can see');
  assert.ok(!expected.includes(far));
  step();
  assert.equal(a.frames[2]?.keyframe, false, 'then deltas again');
  assert.ok((a.frames[2]?.updates.length ?? 0) > 0);

  a.bufferedAmount = 10_000;
  step();
  now += 5001;
  step();
  assert.deepEqual(a.refused, ['PROTOCOL_SLOW_CONSUMER'], 'closed when stuck beyond the grace');
});

/** Drives a playground and checks every client's frame against the naive reference each tick. */
function checkAgainstReference(o: { spread: number; churn: boolean; spawns?: boolean; ticks: number }): {
  compared: number;
  sharedTicks: number;
} {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pg = new Playground('p');
  const rep = new Replicator(pg, OPTIONS);
  const avatars: number[] = [];
  for (let i = 1; i <= 40; i++)
    avatars.push(spawnAt(pg, i, (rand() - 0.5) * o.spread, (rand() - 0.5) * o.spread));
  const clients = avatars.slice(0, 20).map((id, i) => new NaiveClient(i + 1, id));
  const watched = new Set(clients.map((c) => c.avatarId));
  let compared = 0;
  let sharedTicks = 0;
  for (let tick = 1; tick <= o.ticks; tick++) {
    for (const id of avatars) {
      const e = pg.get(id);
      if (!e || rand() < 0.3) continue;
      pg.setTransform(
        id,
        { x: e.position.x + (rand() - 0.5) * 4, y: 0, z: e.position.z + (rand() - 0.5) * 4 },
        e.rotation,
      );
    }
    const removedNow: number[] = [];
    if (o.churn) {
      // Entities come and go every tick, so grid indexes are freed and reused all the time.
      for (let k = 0; k < 2; k++) {
        const i = Math.floor(rand() * avatars.length);
        const id = avatars[i] as number;
        if (watched.has(id) || !pg.get(id)) continue;
        pg.remove(id);
        removedNow.push(id);
        avatars.splice(i, 1);
      }
      for (let k = 0; k < (o.spawns === false ? 0 : 2); k++)
        avatars.push(spawnAt(pg, 100 + tick, (rand() - 0.5) * o.spread, (rand() - 0.5) * o.spread));
    }
    const all = [...pg.all()].map((e) => ({ ...e }));
    const updates: EntityUpdate[] = [];
    for (const e of pg.all()) if (e.changed & 1) updates.push({ id: e.id, position: e.position });
    rep.update(tick);
    const frames = new Set<Uint8Array>();
    for (const c of clients) {
      // The version 2–3 layout is the reference encoder's (compact chunks: update-rates.test.ts).
      const actual = rep.frameFor(c.clientId, c.avatarId, false, ChunkLayout.WHOLE);
      const expected = c.frame(tick, all, updates, removedNow, OPTIONS.cellSizeM);
      if (actual === null) {
        assert.equal(expected.spawns.length + expected.updates.length + expected.removes.length, 0);
        continue;
      }
      frames.add(actual);
      assert.deepEqual(sorted(decodeState(actual)), sorted(decodeState(encodeState(expected))));
      compared++;
    }
    if (frames.size === 1 && tick > 1) sharedTicks++;
  }
  return { compared, sharedTicks };
}

test('churn: entity indexes freed and reused every tick keep frames equal to the reference', () => {
  const r = checkAgainstReference({ spread: 400, churn: true, ticks: 80 });
  assert.ok(r.compared > 500, `compared ${r.compared} frames`);
});

test('dense room: every client gets the very same frame bytes, equal to the per-client reference', () => {
  const r = checkAgainstReference({ spread: 30, churn: false, ticks: 40 });
  assert.ok(r.compared > 500, `compared ${r.compared} frames`);
  assert.equal(r.sharedTicks, 39, 'one shared frame every tick after the first');
  // Removals too: every client held the removed entities, so the frame stays shared.
  const removing = checkAgainstReference({ spread: 30, churn: true, spawns: false, ticks: 10 });
  assert.equal(removing.sharedTicks, 9);
});

test('a quiet tick sends nothing; a client that missed removals still gets them', () => {
  const pg = new Playground('p');
  const rep = new Replicator(pg, OPTIONS);
  const a = spawnAt(pg, 1, 0, 0);
  const b = spawnAt(pg, 2, 5, 0);
  const others: number[] = [spawnAt(pg, 3, 10, 0), spawnAt(pg, 4, 20, 0), spawnAt(pg, 5, 30, 0)];
  rep.update(1);
  rep.frameFor(1, a, true, ChunkLayout.PACKED);
  rep.frameFor(2, b, true, ChunkLayout.PACKED);
  rep.update(2);
  assert.equal(rep.quiet, true);
  assert.equal(rep.frameFor(1, a, false, ChunkLayout.PACKED), null);
  // Client 2 misses the ticks that remove two entities (and spawns reuse nothing it holds).
  pg.remove(others[0] as number);
  rep.update(3);
  assert.deepEqual(decodeState(rep.frameFor(1, a, false, ChunkLayout.PACKED)).removes, [others[0]]);
  pg.remove(others[1] as number);
  const late = spawnAt(pg, 6, 1, 1);
  rep.update(4);
  const f1 = decodeState(rep.frameFor(1, a, false, ChunkLayout.PACKED));
  assert.deepEqual(f1.removes, [others[1]]);
  assert.deepEqual(ids(f1.spawns), [late]);
  pg.setTransform(b, { x: 6, y: 0, z: 0 }, ID);
  rep.update(5);
  const f2 = decodeState(rep.frameFor(2, b, false, ChunkLayout.PACKED));
  assert.deepEqual(
    [...f2.removes].sort((x, y) => x - y),
    others.slice(0, 2).sort((x, y) => x - y),
  );
  assert.deepEqual(ids(f2.spawns), [late]);
  assert.deepEqual(
    [...rep.knownBy(2)].sort((x, y) => x - y),
    [a, b, others[2] as number, late].sort((x, y) => x - y),
  );
});

test('version 6, 5, 4 and 3 clients in one dense room: one shared frame per layout, y only while it is news', () => {
  const pg = new Playground('p');
  const rep = new Replicator(pg, OPTIONS);
  const avatars = Array.from({ length: 24 }, (_, i) =>
    spawnAt(pg, i + 1, (i % 5) * 4, Math.floor(i / 5) * 4),
  );
  // Client i speaks version 6, 5, 4, 3 for i mod 4 = 0, 1, 2, 3.
  const layouts = [
    ChunkLayout.PACKED_MOTION,
    ChunkLayout.PACKED,
    ChunkLayout.COMPACT,
    ChunkLayout.WHOLE,
  ] as const;
  const yaw = (a: number) => ({ x: 0, y: Math.sin(a / 2), z: 0, w: Math.cos(a / 2) });
  const walk = (tick: number, y: number) => {
    for (const id of avatars) {
      const e = pg.get(id) as EntityState;
      pg.setTransform(id, { x: e.position.x + 0.1, y, z: e.position.z }, yaw(tick / 10));
    }
    rep.update(tick);
    const frames = avatars.map((id, i) => rep.frameFor(i + 1, id, tick === 1, layouts[i % 4] as ChunkLayout));
    const of = (k: number) => new Set(frames.filter((_, i) => i % 4 === k));
    return { motion: of(0), packed: of(1), compact: of(2), whole: of(3) };
  };
  walk(1, 0);
  walk(2, 0);
  const steady = walk(3, 0);
  assert.equal(steady.motion.size, 1, 'the version 6 clients share one frame');
  assert.equal(steady.packed.size, 1, 'the version 5 clients share another');
  assert.equal(steady.compact.size, 1, 'the version 4 clients share a third');
  assert.equal(steady.whole.size, 1, 'the version 3 clients share a fourth');
  const [motion] = steady.motion as Set<Uint8Array>;
  const [packed] = steady.packed as Set<Uint8Array>;
  const [compact] = steady.compact as Set<Uint8Array>;
  const [whole] = steady.whole as Set<Uint8Array>;
  assert.ok(
    motion &&
      packed &&
      compact &&
      whole &&
      compact.length < whole.length * 0.8 &&
      packed.length < compact.length * 0.9 &&
      motion.length < packed.length * 0.9,
    `${motion?.length} vs ${packed?.length} vs ${compact?.length} vs ${whole?.length} bytes`,
  );
  const compactUpdates = decodeState(compact as Uint8Array).updates;
  assert.deepEqual(decodeState(packed as Uint8Array).updates, compactUpdates, 'packed heads, same updates');
  const motionUpdates = decodeState(motion as Uint8Array).updates;
  assert.deepEqual(
    motionUpdates.map((u) => [u.id, u.positionXZ]),
    compactUpdates.map((u) => [u.id, u.positionXZ]),
    'packed motion, same ids and offsets',
  );
  for (const [i, u] of motionUpdates.entries()) {
    const r = compactUpdates[i]?.rotation as Quat;
    const dot = Math.abs((u.rotation as Quat).y * r.y + (u.rotation as Quat).w * r.w);
    assert.ok(2 * Math.acos(Math.min(1, dot)) < (0.045 * Math.PI) / 180, 'its yaw within a 4096th of a turn');
  }
  for (const u of compactUpdates) {
    assert.equal(u.position, undefined, 'y did not change since these clients got it: x and z only');
    assert.ok(u.positionXZ && u.rotation);
  }
  // Everyone steps up: this tick's frame carries y again, the next one (everyone got it) not.
  const up = walk(4, 0.5);
  for (const frames of [up.motion, up.packed, up.compact]) {
    const [upFrame] = frames as Set<Uint8Array>;
    for (const u of decodeState(upFrame as Uint8Array).updates) assert.equal(u.position?.y, 0.5);
  }
  const next = walk(5, 0.5);
  for (const frames of [next.motion, next.packed, next.compact]) {
    const [after] = frames as Set<Uint8Array>;
    for (const u of decodeState(after as Uint8Array).updates) assert.ok(u.positionXZ && !u.position);
  }
});
