import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ByteWriter,
  ChunkLayout,
  decodeServerFrame,
  type EntityState,
  encodeState,
  ServerOp,
  type StateFrame,
  writeChunk,
  writeRemoves,
  writeStateHeader,
} from '@plexus/protocol';
import { type Entity, type EntityField, EntityMirror } from './entity-mirror.ts';

const Q = { x: 0, y: 0, z: 0, w: 1 };

function avatar(id: number, x: number, name = `p${id}`): EntityState {
  return {
    id,
    owner: id,
    kind: 'avatar',
    position: { x, y: 0, z: 0 },
    rotation: Q,
    props: { displayName: name },
  };
}

/** Encodes then decodes, so the mirror sees exactly what the wire carries. */
function wire(frame: Partial<StateFrame> & { tick: number }): StateFrame {
  const decoded = decodeServerFrame(
    encodeState({ keyframe: false, spawns: [], updates: [], removes: [], ...frame }),
  );
  assert.equal(decoded.op, ServerOp.STATE);
  return decoded as StateFrame;
}

function recorder() {
  const events: string[] = [];
  const changes: { entity: Entity; fields: readonly EntityField[] }[] = [];
  const mirror = new EntityMirror({
    entityAdded: (e) => events.push(`added:${e.id}`),
    entityChanged: (e, fields) => {
      events.push(`changed:${e.id}:${fields.join(',')}`);
      changes.push({ entity: e, fields });
    },
    entityRemoved: (e) => events.push(`removed:${e.id}`),
  });
  return { mirror, events, changes };
}

test('a keyframe adds every listed entity as a plain object', () => {
  const { mirror, events } = recorder();
  mirror.apply(wire({ tick: 1, keyframe: true, spawns: [avatar(1, 0), avatar(2, 3)] }));
  assert.deepEqual(events, ['added:1', 'added:2']);
  assert.deepEqual(mirror.entities.get(2), avatar(2, 3));
  assert.equal(mirror.lastTick, 1);
});

test('a keyframe replaces everything: gone entities removed, new added, changed ones reported', () => {
  const { mirror, events } = recorder();
  mirror.apply(wire({ tick: 1, keyframe: true, spawns: [avatar(1, 0), avatar(2, 3)] }));
  events.length = 0;
  mirror.apply(wire({ tick: 9, keyframe: true, spawns: [avatar(2, 4), avatar(3, 1)] }));
  assert.deepEqual(events, ['removed:1', 'changed:2:position', 'added:3']);
  assert.deepEqual([...mirror.entities.keys()].sort(), [2, 3]);
  assert.equal(mirror.entities.get(2)?.position.x, 4);
});

test('a delta spawns, merges updated fields and removes', () => {
  const { mirror, events, changes } = recorder();
  mirror.apply(wire({ tick: 1, keyframe: true, spawns: [avatar(1, 0), avatar(2, 3)] }));
  events.length = 0;
  const rotation = { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 };
  mirror.apply(
    wire({
      tick: 2,
      spawns: [avatar(5, 7)],
      updates: [
        { id: 1, position: { x: 1, y: 0, z: 2 } },
        { id: 2, rotation, props: { displayName: 'Bob' } },
        { id: 99, position: { x: 1, y: 1, z: 1 } },
      ],
      removes: [1, 42],
    }),
  );
  assert.deepEqual(events, ['added:5', 'changed:1:position', 'changed:2:rotation,props', 'removed:1']);
  const two = mirror.entities.get(2);
  assert.deepEqual(two?.position, { x: 3, y: 0, z: 0 });
  assert.ok(Math.abs((two?.rotation.y ?? 0) - Math.SQRT1_2) < 1e-6);
  assert.deepEqual(two?.props, { displayName: 'Bob' });
  assert.equal(changes[1]?.entity, two);
  assert.equal(mirror.entities.has(1), false);
  assert.equal(mirror.entities.has(5), true);
});

test('clear removes every entity with events', () => {
  const { mirror, events } = recorder();
  mirror.apply(wire({ tick: 1, keyframe: true, spawns: [avatar(1, 0), avatar(2, 3)] }));
  mirror.clear();
  assert.deepEqual(events.slice(2), ['removed:1', 'removed:2']);
  assert.equal(mirror.entities.size, 0);
});

test('a predicted entity keeps its local state, remembers the server one, and reconciles to it', () => {
  const server: string[] = [];
  const { mirror, events } = recorder();
  const observed = new EntityMirror({
    entityChanged: (e, fields) => events.push(`changed:${e.id}:${fields.join(',')}`),
    serverUpdated: (e, s) => server.push(`${e.id}:${s.position.x}:${String(s.props.displayName)}`),
  });
  for (const m of [mirror, observed]) m.apply(wire({ tick: 1, keyframe: true, spawns: [avatar(1, 0)] }));
  events.length = 0;
  observed.predict(1);
  assert.equal(observed.isPredicted(1), true);
  observed.setLocal(1, { position: { x: 5, y: 0, z: 0 }, props: { color: 'red' } });
  observed.apply(
    wire({ tick: 2, updates: [{ id: 1, position: { x: 2, y: 0, z: 0 }, props: { displayName: 'Z' } }] }),
  );
  // Local state kept, the server's remembered and reported.
  assert.equal(observed.entities.get(1)?.position.x, 5);
  assert.deepEqual(observed.entities.get(1)?.props, { displayName: 'p1', color: 'red' });
  assert.equal(observed.serverTransformOf(1)?.position.x, 2);
  assert.deepEqual(server, ['1:2:Z']);
  observed.reconcile(1, 'transform');
  assert.equal(observed.entities.get(1)?.position.x, 2);
  assert.deepEqual(observed.entities.get(1)?.props, { displayName: 'p1', color: 'red' });
  observed.reconcile(1);
  assert.deepEqual(observed.entities.get(1)?.props, { displayName: 'Z' });
  assert.deepEqual(events, ['changed:1:position,props', 'changed:1:position', 'changed:1:props']);
  // Unpredicted, server updates apply directly again.
  observed.unpredict(1);
  observed.apply(wire({ tick: 3, updates: [{ id: 1, position: { x: 3, y: 0, z: 0 } }] }));
  assert.equal(observed.entities.get(1)?.position.x, 3);
});

test('owner changes are reported with the previous owner, from updates, keyframes and setOwner', () => {
  const owners: string[] = [];
  const changed: string[] = [];
  const mirror = new EntityMirror({
    entityChanged: (e, fields) => changed.push(`${e.id}:${fields.join(',')}`),
    ownerChanged: (e, previous) => owners.push(`${e.id}:${previous}->${e.owner}`),
  });
  const box: EntityState = { ...avatar(7, 0), kind: 'object', owner: 0, props: {} };
  mirror.apply(wire({ tick: 1, keyframe: true, spawns: [box] }));
  mirror.apply(wire({ tick: 2, updates: [{ id: 7, owner: 4 }] }));
  mirror.apply(wire({ tick: 3, keyframe: true, spawns: [{ ...box, owner: 5 }] }));
  mirror.setOwner(7, 6);
  mirror.setOwner(7, 6);
  mirror.apply(wire({ tick: 4, updates: [{ id: 7, owner: 6 }] }));
  assert.deepEqual(owners, ['7:0->4', '7:4->5', '7:5->6']);
  assert.deepEqual(changed, ['7:owner', '7:owner', '7:owner']);
});

test('setLocal merges props like SET_ENTITY: keys replaced, null deletes', () => {
  const mirror = new EntityMirror();
  mirror.apply(wire({ tick: 1, keyframe: true, spawns: [{ ...avatar(1, 0), props: { a: 1, b: 2 } }] }));
  mirror.predict(1);
  mirror.setLocal(1, { props: { b: null, c: 'x' } });
  assert.deepEqual(mirror.entities.get(1)?.props, { a: 1, c: 'x' });
});

test('resync takes a new connection keyframe in place: same Map, same objects for surviving ids', () => {
  const owners: string[] = [];
  const events: string[] = [];
  const observed = new EntityMirror({
    entityAdded: (e) => events.push(`added:${e.id}`),
    entityChanged: (e, fields) => events.push(`changed:${e.id}:${fields.join(',')}`),
    entityRemoved: (e) => events.push(`removed:${e.id}`),
    ownerChanged: (e, previous) => owners.push(`${e.id}:${previous}→${e.owner}`),
  });
  observed.apply(
    wire({
      tick: 500,
      keyframe: true,
      spawns: [avatar(1, 0), avatar(2, 3), { ...avatar(3, 5), kind: 'object', owner: 7 }, avatar(4, 1)],
    }),
  );
  const map = observed.entities;
  const self = observed.entities.get(1) as Entity;
  const shared = observed.entities.get(3) as Entity;
  // The own avatar was moved locally (predicted) before the drop.
  observed.predict(1);
  observed.setLocal(1, { position: { x: 9, y: 0, z: 0 } });
  events.length = 0;

  // The new server restored avatar 1 at its checkpointed x = 2, still has 2 and 3 (3 now held by
  // the client's new connection id 11), lost 4, and has a newcomer 5. Its ticks start anew.
  observed.resync(
    wire({
      tick: 3,
      keyframe: true,
      spawns: [avatar(1, 2), avatar(2, 3), { ...avatar(3, 5), kind: 'object', owner: 11 }, avatar(5, 8)],
    }),
  );
  assert.equal(observed.entities, map, 'the same Map');
  assert.equal(observed.entities.get(1), self, 'the same avatar object');
  assert.equal(observed.entities.get(3), shared, 'the same shared-object object');
  // Predictions end: the server's restored position wins, not the local x = 9.
  assert.equal(observed.isPredicted(1), false);
  assert.deepEqual(self.position, { x: 2, y: 0, z: 0 });
  assert.equal(shared.owner, 11);
  assert.deepEqual(owners, ['3:7→11']);
  assert.deepEqual(events.sort(), ['added:5', 'changed:1:position', 'changed:3:owner', 'removed:4'].sort());
  assert.deepEqual([...observed.entities.keys()].sort(), [1, 2, 3, 5]);
  assert.equal(observed.lastTick, 3);
});

test('resync replaces an entity whose id now names another kind (a playground that restarted)', () => {
  const { mirror, events } = recorder();
  mirror.apply(wire({ tick: 1, keyframe: true, spawns: [avatar(1, 0), avatar(2, 3)] }));
  const before = mirror.entities.get(2);
  events.length = 0;
  mirror.resync(
    wire({ tick: 1, keyframe: true, spawns: [avatar(1, 0), { ...avatar(2, 3), kind: 'object' }] }),
  );
  assert.deepEqual(events, ['removed:2', 'added:2']);
  assert.notEqual(mirror.entities.get(2), before);
  assert.equal(mirror.entities.get(2)?.kind, 'object');
});

test('a version-4 update without y keeps the y the mirror holds; a yaw is a turn about +y', () => {
  const { mirror, events } = recorder();
  mirror.apply(
    wire({ tick: 1, keyframe: true, spawns: [{ ...avatar(1, 0), position: { x: 0, y: 2.5, z: 0 } }] }),
  );
  events.length = 0;
  const w = new ByteWriter();
  writeStateHeader(w, 2, false);
  w.varuint(0).varuint(1);
  const turned = { x: 0, y: Math.SQRT1_2, z: 0, w: Math.SQRT1_2 };
  writeChunk(
    w,
    0,
    0,
    [{ id: 1, position: { x: 1.25, y: 2.5, z: -3 }, rotation: turned }],
    ChunkLayout.COMPACT,
    {
      keepsY: () => true,
    },
  );
  writeRemoves(w, []);
  const frame = decodeServerFrame(w.finish()) as StateFrame;
  assert.deepEqual(frame.updates[0]?.positionXZ, { x: 1.25, z: -3 }, 'the wire carried x and z only');
  mirror.apply(frame);
  const e = mirror.entities.get(1);
  assert.deepEqual(e?.position, { x: 1.25, y: 2.5, z: -3 });
  assert.ok(Math.abs((e?.rotation.y ?? 0) - Math.SQRT1_2) < 1e-9 && e?.rotation.x === 0);
  assert.deepEqual(events, ['changed:1:position,rotation']);
});
