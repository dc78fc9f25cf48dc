import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChunkLayout,
  decodeServerFrame,
  type EntityState,
  quantizePosition,
  quantizeRotation,
  ServerOp,
  type StateFrame,
} from '@plexus/protocol';
import { Playground } from '../playground/playground.ts';
import { Replicator } from './replicator.ts';

// Update rates by distance (docs/protocol.md §4.2): near cells every tick, far ones every
// `farPeriodTicks`, and whatever changed reaches every client that holds it within that window.

const ID = { x: 0, y: 0, z: 0, w: 1 };
const WINDOW = 4;
const LAYOUTS = [
  ChunkLayout.PACKED_MOTION,
  ChunkLayout.PACKED,
  ChunkLayout.COMPACT,
  ChunkLayout.WHOLE,
] as const;
const RATES = { radiusM: 100, hysteresisM: 10, cellSizeM: 16, fullRateM: 20, farPeriodTicks: WINDOW };

function decodeState(bytes: Uint8Array): StateFrame {
  const f = decodeServerFrame(bytes);
  assert.equal(f.op, ServerOp.STATE);
  return f as unknown as StateFrame;
}

function spawnAt(pg: Playground, owner: number, x: number, z: number): number {
  return pg.spawn({ owner, kind: 'avatar', position: { x, y: 0, z }, rotation: ID, props: { n: owner } }).id;
}

/** What a client holds, built only from the frames it received (as the SDK does). */
class Mirror {
  readonly entities = new Map<number, EntityState>();

  apply(bytes: Uint8Array | null): StateFrame | null {
    if (!bytes) return null;
    const f = decodeState(bytes);
    if (f.keyframe) this.entities.clear();
    for (const s of f.spawns) this.entities.set(s.id, structuredClone(s));
    for (const u of f.updates) {
      const e = this.entities.get(u.id);
      if (!e) continue; // a shared chunk may carry entities this client does not hold
      if (u.position) e.position = u.position;
      if (u.positionXZ) e.position = { x: u.positionXZ.x, y: e.position.y, z: u.positionXZ.z };
      if (u.rotation) e.rotation = u.rotation;
      if (u.props) e.props = u.props;
      if (u.owner !== undefined) e.owner = u.owner;
    }
    for (const id of f.removes) this.entities.delete(id);
    return f;
  }
}

const at = (x: number) => ({ x, y: 0, z: 0 });

test('a near entity updates every tick; a far one every 4th tick, and its last change arrives within that period', () => {
  const pg = new Playground('p');
  const rep = new Replicator(pg, RATES);
  const me = spawnAt(pg, 1, 0, 0);
  const near = spawnAt(pg, 2, 5, 0);
  const far = spawnAt(pg, 3, 80, 0);
  spawnAt(pg, 4, -300, 0); // beyond the radius: not a dense room
  const mirror = new Mirror();
  rep.update(1);
  mirror.apply(rep.frameFor(1, me, true, ChunkLayout.PACKED));
  const nearTicks: number[] = [];
  const farTicks: number[] = [];
  for (let tick = 2; tick <= 41; tick++) {
    pg.setTransform(near, at(5 + tick / 100), ID);
    pg.setTransform(far, at(80 + tick / 100), ID);
    rep.update(tick);
    const f = mirror.apply(rep.frameFor(1, me, false, ChunkLayout.PACKED));
    if (f?.updates.some((u) => u.id === near)) nearTicks.push(tick);
    if (f?.updates.some((u) => u.id === far)) farTicks.push(tick);
  }
  assert.equal(nearTicks.length, 40, 'the near entity comes every tick');
  assert.ok(farTicks.length >= 9 && farTicks.length <= 10, `far: ${farTicks.join(',')}`);
  for (let i = 1; i < farTicks.length; i++)
    assert.equal((farTicks[i] as number) - (farTicks[i - 1] as number), 4);
  assert.equal(
    mirror.entities.get(far)?.position.x,
    80 + (farTicks.at(-1) as number) / 100,
    'its latest position',
  );

  // The far entity changes its props once and then stops: the change reaches the client within
  // 4 ticks, with the latest position, and after the window nothing more is sent.
  pg.setProps(far, { n: 3, mood: 'waving' });
  pg.setTransform(far, at(90), ID);
  let arrived = 0;
  for (let tick = 42; tick <= 52; tick++) {
    rep.update(tick);
    const f = mirror.apply(rep.frameFor(1, me, false, ChunkLayout.PACKED));
    if (f?.updates.some((u) => u.id === far)) {
      assert.ok(tick <= 45, `arrived at tick ${tick}`);
      arrived++;
    }
  }
  assert.equal(arrived, 1, 'exactly once at the far rate');
  assert.deepEqual(mirror.entities.get(far)?.props, { n: 3, mood: 'waving' });
  assert.equal(mirror.entities.get(far)?.position.x, 90);
  assert.equal(rep.quiet, true, 'past the window a stopped world is quiet again');
});

test('a dense room ignores rates by distance: every client gets every cell every tick, in one shared frame', () => {
  const pg = new Playground('p');
  const rep = new Replicator(pg, RATES);
  const ids: number[] = [];
  for (let i = 0; i < 20; i++) ids.push(spawnAt(pg, i + 1, (i % 5) * 12, Math.floor(i / 5) * 12));
  rep.update(1);
  for (let c = 0; c < ids.length; c++) rep.frameFor(c + 1, ids[c] as number, true, ChunkLayout.PACKED);
  for (let tick = 2; tick <= 9; tick++) {
    for (const id of ids) {
      const e = pg.get(id) as EntityState;
      pg.setTransform(id, { x: e.position.x + 0.01, y: 0, z: e.position.z }, ID);
    }
    rep.update(tick);
    const first = rep.frameFor(1, ids[0] as number, false, ChunkLayout.PACKED);
    assert.ok(first);
    assert.equal(decodeState(first).updates.length, ids.length, `tick ${tick}: every entity`);
    for (let c = 1; c < ids.length; c++)
      assert.equal(rep.frameFor(c + 1, ids[c] as number, false, ChunkLayout.PACKED), first);
  }
});

/**
 * Random walks over an `area` m square, with jumps, props, spawns and removes; checks every
 * client's copy of every entity each tick. Returns how many copies were checked and how many
 * frames went to more than one client (a dense room's shared frame).
 */
function walkAndCheck(area: number): { checked: number; sharedFrames: number } {
  let seed = 29;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pg = new Playground('p');
  const rep = new Replicator(pg, RATES);
  const avatars: number[] = [];
  for (let i = 1; i <= 80; i++) avatars.push(spawnAt(pg, i, (rand() - 0.5) * area, (rand() - 0.5) * area));
  const clients = avatars
    .slice(0, 12)
    // Clients speak protocol versions 6, 5, 4 and 3 in turn (packed motion, packed heads, compact
    // and whole chunks).
    .map((avatarId, i) => ({
      clientId: i + 1,
      avatarId,
      layout: LAYOUTS[i % LAYOUTS.length] as ChunkLayout,
      mirror: new Mirror(),
    }));
  /** Each entity's state after every tick, to tell how old a client's copy is. */
  const history = new Map<number, EntityState[]>();
  // As the wire carries them: millimetres, and rotations within the packed form's 0.3°.
  const snapshot = (e: EntityState) => JSON.stringify([quantizePosition(e.position), e.props, e.owner]);
  const same = (held: EntityState, e: EntityState) => {
    const r = quantizeRotation(e.rotation);
    const dot = Math.abs(
      held.rotation.x * r.x + held.rotation.y * r.y + held.rotation.z * r.z + held.rotation.w * r.w,
    );
    return snapshot(held) === snapshot(e) && 2 * Math.acos(Math.min(1, dot)) < (0.31 * Math.PI) / 180;
  };
  let checked = 0;
  let sharedFrames = 0;
  const TICKS = 120;
  for (let tick = 1; tick <= TICKS + WINDOW; tick++) {
    const moving = tick <= TICKS;
    for (const id of moving ? avatars : []) {
      const e = pg.get(id);
      if (!e || rand() < 0.4) continue;
      const jump = rand() < 0.02 ? 120 : 5;
      const position = {
        x: e.position.x + (rand() - 0.5) * jump,
        // Now and then a step up or down: compact chunks leave y out only where clients hold it.
        y: rand() < 0.05 ? e.position.y + rand() - 0.5 : e.position.y,
        z: e.position.z + (rand() - 0.5) * jump,
      };
      const rotation = rand() < 0.3 ? { x: 0, y: Math.sin(tick), z: 0, w: Math.cos(tick) } : e.rotation;
      pg.setTransform(id, position, rotation);
      if (rand() < 0.02) pg.setProps(id, { n: id, at: tick });
    }
    if (moving && tick % 15 === 0) avatars.push(spawnAt(pg, 100 + tick, (rand() - 0.5) * area, 0));
    if (moving && tick % 20 === 0) {
      const victim = avatars.splice(20 + (tick % 40), 1)[0] as number;
      pg.remove(victim);
    }
    rep.update(tick);
    for (const e of pg.all()) {
      const h = history.get(e.id) ?? [];
      h[tick] = structuredClone(e);
      history.set(e.id, h);
    }
    const sent = new Set<Uint8Array>();
    for (const c of clients) {
      const frame = rep.frameFor(c.clientId, c.avatarId, tick === 1, c.layout);
      if (frame && sent.has(frame)) sharedFrames++;
      if (frame) sent.add(frame);
      c.mirror.apply(frame);
      assert.deepEqual(
        [...c.mirror.entities.keys()].sort((a, b) => a - b),
        [...rep.knownBy(c.clientId)].sort((a, b) => a - b),
        `client ${c.clientId} tick ${tick}: holds exactly what the server thinks it holds`,
      );
      for (const [id, held] of c.mirror.entities) {
        const h = history.get(id) as EntityState[];
        const recent = h.slice(Math.max(1, tick - WINDOW + 1), tick + 1);
        assert.ok(
          recent.some((e) => e && same(held, e)),
          `client ${c.clientId} tick ${tick}: entity ${id} is older than ${WINDOW} ticks`,
        );
        checked++;
      }
    }
  }
  // After a window with nothing moving, every client holds exactly the current state.
  for (const c of clients) {
    for (const [id, held] of c.mirror.entities)
      assert.ok(same(held, pg.get(id) as EntityState), `entity ${id}`);
  }
  return { checked, sharedFrames };
}

test('random walks, jumps, props, spawns and removes: every client holds each entity no older than the window', () => {
  const { checked } = walkAndCheck(300);
  assert.ok(checked > 5000, `checked ${checked} entity copies`);
});

test('…and in a room dense enough that clients go in and out of the shared frame', () => {
  const { checked, sharedFrames } = walkAndCheck(60);
  assert.ok(checked > 20_000, `checked ${checked} entity copies`);
  assert.ok(sharedFrames > 20, `${sharedFrames} shared frames`);
});

test('a client far from a crowd gets fewer bytes than one in it, and nothing is starved', () => {
  const pg = new Playground('p');
  const rep = new Replicator(pg, RATES);
  const inside = spawnAt(pg, 1, 0, 0);
  const outside = spawnAt(pg, 2, 70, 0);
  // Someone beyond everyone's radius: no client holds every entity, so this is not a dense room
  // (where every client gets everything every tick, in one shared frame).
  spawnAt(pg, 3, -200, 0);
  const crowd: number[] = [];
  for (let i = 0; i < 30; i++) crowd.push(spawnAt(pg, 10 + i, (i % 6) * 2, Math.floor(i / 6) * 2));
  const bytes = { inside: 0, outside: 0 };
  const seen = new Map<number, number>();
  for (let tick = 1; tick <= 40; tick++) {
    for (const id of crowd) {
      const e = pg.get(id) as EntityState;
      pg.setTransform(id, { x: e.position.x + 0.01, y: 0, z: e.position.z }, ID);
    }
    rep.update(tick);
    const a = rep.frameFor(1, inside, tick === 1, ChunkLayout.PACKED);
    const b = rep.frameFor(2, outside, tick === 1, ChunkLayout.PACKED);
    if (tick > 1) {
      bytes.inside += a?.length ?? 0;
      bytes.outside += b?.length ?? 0;
    }
    if (b) for (const u of decodeState(b).updates) seen.set(u.id, tick);
  }
  assert.ok(bytes.outside * 3 < bytes.inside, `outside ${bytes.outside} B vs inside ${bytes.inside} B`);
  for (const id of crowd)
    assert.ok((seen.get(id) ?? 0) >= 37, `entity ${id} last reached the far client at ${seen.get(id)}`);
});
