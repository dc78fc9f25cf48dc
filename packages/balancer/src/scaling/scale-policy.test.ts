import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideScale, freeSeats, type ScaleInput, type ServerLoadView } from './scale-policy.ts';

const policy = { minServers: 2, maxServers: 4, minFreeSeats: 10, maxFreeSeats: 30, cooldownMs: 5_000 };

function server(serverId: string, load: Partial<ServerLoadView> = {}): ServerLoadView {
  return { serverId, capacity: 20, players: 0, pending: 0, draining: false, playgrounds: 0, ...load };
}

function input(servers: ServerLoadView[], extra: Partial<ScaleInput> = {}): ScaleInput {
  return {
    servers,
    managed: servers.map((s) => s.serverId),
    waitingForRegistration: 0,
    nowMs: 100_000,
    lastActionAtMs: null,
    policy,
    ...extra,
  };
}

test('free seats count capacity minus players minus pending over servers that are not draining', () => {
  assert.equal(
    freeSeats([
      server('a', { players: 5, pending: 2 }),
      server('b', { draining: true }),
      server('c', { players: 25 }), // over capacity counts as 0, not negative
    ]),
    13,
  );
});

test('starts a server when free seats fall below the minimum', () => {
  const d = decideScale(input([server('a', { players: 15 }), server('b', { players: 16 })]));
  assert.deepEqual(d, { action: 'start', reason: 'free seats below the minimum', freeSeats: 9 });
});

test('does not start beyond the maximum', () => {
  const full = ['a', 'b', 'c', 'd'].map((id) => server(id, { players: 20 }));
  assert.equal(decideScale(input(full)).action, 'hold');
});

test('starts servers up to the minimum whatever the load', () => {
  const d = decideScale(input([server('a')], { lastActionAtMs: 99_000 }));
  assert.equal(d.action, 'start');
  assert.equal(d.reason, 'fewer servers than the minimum');
});

test('drains the idlest empty server when free seats exceed the maximum', () => {
  const servers = [
    server('a', { players: 3, playgrounds: 1 }),
    server('b', { playgrounds: 2 }),
    server('c', { playgrounds: 0 }),
    server('d', { pending: 1 }),
  ];
  const d = decideScale(input(servers));
  assert.deepEqual(d, {
    action: 'drain',
    serverId: 'c',
    reason: 'free seats above the maximum',
    freeSeats: 76,
  });
});

test('among equally idle servers the most recently started goes first', () => {
  const d = decideScale(input([server('a'), server('b'), server('c')]));
  assert.equal(d.action === 'drain' && d.serverId, 'c');
});

test('never drains below the minimum server count', () => {
  const d = decideScale(input([server('a'), server('b')]));
  assert.deepEqual(d, { action: 'hold', reason: 'within the thresholds', freeSeats: 40 });
});

test('does not drain when the seats left would fall below the minimum (no flapping)', () => {
  // 31 free > 30; draining the empty 20-seat server leaves 11: enough for minFree 10, not for 12.
  const servers = [server('a', { players: 9 }), server('b', { players: 20 }), server('c')];
  const d = decideScale(input(servers, { policy: { ...policy, minFreeSeats: 12 } }));
  assert.equal(d.action, 'hold');
  assert.equal(d.reason, 'free seats high, but no empty server can go');
  assert.equal(decideScale(input(servers)).action, 'drain');
});

test('only managed servers are drained', () => {
  const servers = [server('a', { players: 5 }), server('b', { players: 5 }), server('manual')];
  const d = decideScale(input(servers, { managed: ['a', 'b', 'x'] }));
  assert.equal(d.action, 'hold');
});

test('one action per cooldown', () => {
  const low = [server('a', { players: 15 }), server('b', { players: 16 })];
  assert.equal(decideScale(input(low, { lastActionAtMs: 96_000 })).reason, 'cooldown');
  assert.equal(decideScale(input(low, { lastActionAtMs: 95_000 })).action, 'start');
});

test('waits for a started server to register before deciding again', () => {
  const low = [server('a', { players: 15 }), server('b', { players: 16 })];
  const d = decideScale(input(low, { managed: ['a', 'b', 'c'], waitingForRegistration: 1 }));
  assert.equal(d.action, 'hold');
  assert.equal(d.reason, 'waiting for a started server to register');
});

test('draining servers add no free seats, so a drain is not repeated on stale numbers', () => {
  const servers = [server('a'), server('b'), server('c', { draining: true })];
  const d = decideScale(input(servers, { managed: ['a', 'b'] }));
  assert.deepEqual(d, { action: 'hold', reason: 'within the thresholds', freeSeats: 40 });
});
