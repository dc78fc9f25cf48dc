import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headroom, type PlacementServer, placePlayground, type RegistrySnapshot } from './placement.ts';

function server(serverId: string, capacity: number, players = 0, draining = false): PlacementServer {
  return { serverId, capacity, players, draining };
}

function snapshot(servers: PlacementServer[], homes: Record<string, string> = {}): RegistrySnapshot {
  return { servers, homes: new Map(Object.entries(homes)) };
}

const none = new Map<string, number>();

test('a hosted playground goes to its server even when another has more headroom', () => {
  const result = placePlayground(
    snapshot([server('a', 10, 8), server('b', 10, 0)], { hall: 'a' }),
    { playgroundId: 'hall' },
    none,
  );
  assert.deepEqual(result, { ok: true, serverId: 'a', sticky: true });
});

test('a new playground goes to the server with the most headroom', () => {
  const result = placePlayground(
    snapshot([server('a', 10, 2), server('b', 20, 5), server('c', 10, 0)]),
    { playgroundId: 'new' },
    none,
  );
  assert.deepEqual(result, { ok: true, serverId: 'b', sticky: false });
});

test('pending reservations count against headroom', () => {
  const pending = new Map([['b', 10]]);
  assert.equal(headroom(server('b', 20, 5), pending), 5);
  const result = placePlayground(
    snapshot([server('a', 10, 2), server('b', 20, 5)]),
    { playgroundId: 'new' },
    pending,
  );
  assert.deepEqual(result, { ok: true, serverId: 'a', sticky: false });
});

test('ties are broken by the lower server id', () => {
  const result = placePlayground(
    snapshot([server('ds-b', 10), server('ds-a', 10), server('ds-c', 10)]),
    { playgroundId: 'p' },
    none,
  );
  assert.deepEqual(result, { ok: true, serverId: 'ds-a', sticky: false });
});

test('draining servers get no new playgrounds', () => {
  const result = placePlayground(
    snapshot([server('a', 100, 0, true), server('b', 10, 9)]),
    { playgroundId: 'p' },
    none,
  );
  assert.deepEqual(result, { ok: true, serverId: 'b', sticky: false });
});

test('a playground whose home is draining is placed afresh on a live server', () => {
  const result = placePlayground(
    snapshot([server('a', 100, 0, true), server('b', 10)], { p: 'a' }),
    { playgroundId: 'p' },
    none,
  );
  assert.deepEqual(result, { ok: true, serverId: 'b', sticky: false });
});

test('a playground mapped to a server that left the registry is placed afresh', () => {
  const result = placePlayground(snapshot([server('b', 10)], { p: 'gone' }), { playgroundId: 'p' }, none);
  assert.deepEqual(result, { ok: true, serverId: 'b', sticky: false });
});

test('a hosted playground on a full server is refused, not moved', () => {
  const result = placePlayground(
    snapshot([server('a', 2, 1), server('b', 10)], { p: 'a' }),
    { playgroundId: 'p' },
    new Map([['a', 1]]),
  );
  assert.deepEqual(result, { ok: false, reason: 'playground_full' });
});

test('every server full → no_capacity', () => {
  const result = placePlayground(
    snapshot([server('a', 2, 2), server('b', 3, 1)]),
    { playgroundId: 'p' },
    new Map([['b', 2]]),
  );
  assert.deepEqual(result, { ok: false, reason: 'no_capacity' });
});

test('no live server → no_servers', () => {
  assert.deepEqual(placePlayground(snapshot([]), { playgroundId: 'p' }, none), {
    ok: false,
    reason: 'no_servers',
  });
  assert.deepEqual(placePlayground(snapshot([server('a', 5, 0, true)]), { playgroundId: 'p' }, none), {
    ok: false,
    reason: 'no_servers',
  });
});
