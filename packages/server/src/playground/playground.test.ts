import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Playground } from './playground.ts';

const ID = { x: 0, y: 0, z: 0, w: 1 };

function avatar(pg: Playground, owner: number, name: string) {
  return pg.spawn({
    owner,
    kind: 'avatar',
    position: { x: owner, y: 0, z: 0 },
    rotation: ID,
    props: { name },
  });
}

test('a new entity appears as a spawn in the next changes, once', () => {
  const pg = new Playground('p');
  const a = avatar(pg, 1, 'a');
  assert.deepEqual(pg.takeChanges(), {
    spawns: [
      {
        id: a.id,
        owner: 1,
        kind: 'avatar',
        position: { x: 1, y: 0, z: 0 },
        rotation: ID,
        props: { name: 'a' },
      },
    ],
    updates: [],
    removes: [],
  });
  assert.equal(pg.takeChanges(), null, 'nothing changed: nothing to send');
});

test('a transform change is an update carrying only the changed fields', () => {
  const pg = new Playground('p');
  const a = avatar(pg, 1, 'a');
  const b = avatar(pg, 2, 'b');
  pg.takeChanges();
  pg.setTransform(a.id, { x: 5, y: 0, z: 1 }, ID);
  pg.setTransform(b.id, b.position, { x: 0, y: 1, z: 0, w: 0 });
  assert.deepEqual(pg.takeChanges()?.updates, [
    { id: a.id, position: { x: 5, y: 0, z: 1 } },
    { id: b.id, rotation: { x: 0, y: 1, z: 0, w: 0 } },
  ]);
  pg.setTransform(a.id, { x: 5, y: 0, z: 1 }, ID);
  assert.equal(pg.takeChanges(), null, 'setting the same transform is not a change');
});

test('a removed entity is a remove in the next changes; born and gone in one tick leaves no trace', () => {
  const pg = new Playground('p');
  const a = avatar(pg, 1, 'a');
  pg.takeChanges();
  pg.setTransform(a.id, { x: 3, y: 0, z: 0 }, ID);
  pg.remove(a.id);
  assert.deepEqual(pg.takeChanges(), { spawns: [], updates: [], removes: [a.id] });

  const ghost = avatar(pg, 3, 'ghost');
  pg.remove(ghost.id);
  assert.equal(pg.takeChanges(), null);
});
