import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headroom, type PlacementServer, type PlacementSnapshot, placePlayground } from './placement.ts';

function server(
  serverId: string,
  capacity: number,
  players = 0,
  more: Partial<PlacementServer> = {},
): PlacementServer {
  return { serverId, capacity, players, pending: 0, draining: false, connected: true, ...more };
}

function snapshot(servers: PlacementServer[], home?: string): PlacementSnapshot {
  return { servers, home };
}

test('a hosted playground goes to its server even when another has more headroom', () => {
  const result = placePlayground(snapshot([server('a', 10, 8), server('b', 10, 0)], 'a'));
  assert.deepEqual(result, { ok: true, serverId: 'a', sticky: true });
});

test('a new playground goes to the server with the most headroom', () => {
  const result = placePlayground(snapshot([server('a', 10, 2), server('b', 20, 5), server('c', 10, 0)]));
  assert.deepEqual(result, { ok: true, serverId: 'b', sticky: false });
});

test('pending reservations count against headroom', () => {
  const b = server('b', 20, 5, { pending: 10 });
  assert.equal(headroom(b), 5);
  const result = placePlayground(snapshot([server('a', 10, 2), b]));
  assert.deepEqual(result, { ok: true, serverId: 'a', sticky: false });
});

test('ties are broken by the lower server id', () => {
  const result = placePlayground(snapshot([server('ds-b', 10), server('ds-a', 10), server('ds-c', 10)]));
  assert.deepEqual(result, { ok: true, serverId: 'ds-a', sticky: false });
});

test('draining servers get no new playgrounds', () => {
  const result = placePlayground(snapshot([server('a', 100, 0, { draining: true }), server('b', 10, 9)]));
  assert.deepEqual(result, { ok: true, serverId: 'b', sticky: false });
});

test('a playground whose home is draining is placed afresh on a live server', () => {
  const result = placePlayground(snapshot([server('a', 100, 0, { draining: true }), server('b', 10)], 'a'));
  assert.deepEqual(result, { ok: true, serverId: 'b', sticky: false });
});

test('a playground mapped to a server that died is placed afresh', () => {
  const result = placePlayground(snapshot([server('b', 10)], 'gone'));
  assert.deepEqual(result, { ok: true, serverId: 'b', sticky: false });
});

test('a hosted playground on a full server is refused, not moved', () => {
  const result = placePlayground(snapshot([server('a', 2, 1, { pending: 1 }), server('b', 10)], 'a'));
  assert.deepEqual(result, { ok: false, reason: 'playground_full' });
});

test('a resuming user enters a full home, and is placed on a full server when the home died', () => {
  const full = snapshot([server('a', 2, 1, { pending: 1 }), server('b', 10)], 'a');
  assert.deepEqual(placePlayground(full, { resume: true }), { ok: true, serverId: 'a', sticky: true });
  const allFull = snapshot([server('b', 2, 2), server('c', 3, 3)], 'dead');
  assert.deepEqual(placePlayground(allFull), { ok: false, reason: 'no_capacity' });
  assert.deepEqual(placePlayground(allFull, { resume: true }), { ok: true, serverId: 'b', sticky: false });
});

test('relocation: several seats at once, never on the excluded server', () => {
  const servers = [server('a', 100, 0, { draining: true }), server('b', 10, 7), server('c', 10, 5)];
  assert.deepEqual(placePlayground(snapshot(servers, 'a'), { seats: 4, exclude: 'a' }), {
    ok: true,
    serverId: 'c',
    sticky: false,
  });
  assert.deepEqual(placePlayground(snapshot(servers, 'a'), { seats: 6, exclude: 'a' }), {
    ok: false,
    reason: 'no_capacity',
  });
  // The excluded server is never the sticky answer, even when it is not draining.
  const notDraining = [server('a', 100), server('b', 10)];
  assert.deepEqual(placePlayground(snapshot(notDraining, 'a'), { exclude: 'a' }), {
    ok: true,
    serverId: 'b',
    sticky: false,
  });
});

test('only connected servers take new playgrounds; a home on an unconnected server is refused', () => {
  const servers = [server('a', 100, 0, { connected: false }), server('b', 10, 5)];
  assert.deepEqual(placePlayground(snapshot(servers)), { ok: true, serverId: 'b', sticky: false });
  assert.deepEqual(placePlayground(snapshot(servers, 'a')), { ok: false, reason: 'home_not_connected' });
});

test('every server full → no_capacity', () => {
  const result = placePlayground(snapshot([server('a', 2, 2), server('b', 3, 1, { pending: 2 })]));
  assert.deepEqual(result, { ok: false, reason: 'no_capacity' });
});

test('no live server → no_servers', () => {
  assert.deepEqual(placePlayground(snapshot([])), { ok: false, reason: 'no_servers' });
  assert.deepEqual(placePlayground(snapshot([server('a', 5, 0, { draining: true })])), {
    ok: false,
    reason: 'no_servers',
  });
});
