import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeServerFrame, ServerOp, type StateFrame } from '@plexus/protocol';
import { StateBuilder } from '../replication/state-builder.ts';
import { Playground } from './playground.ts';

const ID = { x: 0, y: 0, z: 0, w: 1 };

function decodeState(bytes: Uint8Array | null): StateFrame {
  assert.ok(bytes, 'expected a frame');
  const f = decodeServerFrame(bytes);
  assert.equal(f.op, ServerOp.STATE);
  const { op: _op, ...state } = f as { op: number } & StateFrame;
  return state;
}

function avatar(pg: Playground, owner: number, name: string) {
  return pg.spawn({
    owner,
    kind: 'avatar',
    position: { x: owner, y: 0, z: 0 },
    rotation: ID,
    props: { name },
  });
}

test('a new entity appears as a spawn in the next delta, once', () => {
  const pg = new Playground('p');
  const builder = new StateBuilder();
  const a = avatar(pg, 1, 'a');
  const s = decodeState(builder.delta(pg, 1));
  assert.equal(s.tick, 1);
  assert.equal(s.keyframe, false);
  assert.deepEqual(s.spawns, [
    {
      id: a.id,
      owner: 1,
      kind: 'avatar',
      position: { x: 1, y: 0, z: 0 },
      rotation: ID,
      props: { name: 'a' },
    },
  ]);
  assert.deepEqual(s.updates, []);
  assert.deepEqual(s.removes, []);
  assert.equal(builder.delta(pg, 2), null, 'nothing changed: nothing to send');
});

test('a transform change is an update carrying only the changed fields', () => {
  const pg = new Playground('p');
  const builder = new StateBuilder();
  const a = avatar(pg, 1, 'a');
  const b = avatar(pg, 2, 'b');
  builder.delta(pg, 1);
  pg.setTransform(a.id, { x: 5, y: 0, z: 1 }, ID);
  pg.setTransform(b.id, b.position, { x: 0, y: 1, z: 0, w: 0 });
  const s = decodeState(builder.delta(pg, 2));
  assert.deepEqual(s.spawns, []);
  assert.deepEqual(s.updates, [
    { id: a.id, position: { x: 5, y: 0, z: 1 } },
    { id: b.id, rotation: { x: 0, y: 1, z: 0, w: 0 } },
  ]);
  pg.setTransform(a.id, { x: 5, y: 0, z: 1 }, ID);
  assert.equal(builder.delta(pg, 3), null, 'setting the same transform is not a change');
});

test('a removed entity is a remove in the next delta; born and gone in one tick leaves no trace', () => {
  const pg = new Playground('p');
  const builder = new StateBuilder();
  const a = avatar(pg, 1, 'a');
  builder.delta(pg, 1);
  pg.setTransform(a.id, { x: 3, y: 0, z: 0 }, ID);
  pg.remove(a.id);
  const s = decodeState(builder.delta(pg, 2));
  assert.deepEqual(s, { tick: 2, keyframe: false, spawns: [], updates: [], removes: [a.id] });

  const ghost = avatar(pg, 3, 'ghost');
  pg.remove(ghost.id);
  assert.equal(builder.delta(pg, 3), null);
});

test('a keyframe lists every entity as a spawn with the keyframe flag', () => {
  const pg = new Playground('p');
  const builder = new StateBuilder();
  avatar(pg, 1, 'a');
  avatar(pg, 2, 'b');
  builder.delta(pg, 1);
  const k = decodeState(builder.keyframe(pg, 7));
  assert.equal(k.keyframe, true);
  assert.equal(k.tick, 7);
  assert.deepEqual(
    k.spawns.map((e) => e.props.name),
    ['a', 'b'],
  );
  assert.deepEqual(k.updates, []);
  assert.deepEqual(k.removes, []);
});

test('frames from one reused builder stay intact after later encodes', () => {
  const pg = new Playground('p');
  const builder = new StateBuilder();
  avatar(pg, 1, 'a');
  const first = builder.delta(pg, 1);
  const copy = Uint8Array.from(first ?? []);
  avatar(pg, 2, 'b');
  builder.delta(pg, 2);
  builder.keyframe(pg, 2);
  assert.deepEqual(first, copy);
});
