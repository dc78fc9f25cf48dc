import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fleetDemand } from './fleet-demand.ts';
import type { ServerLoadView } from './scale-policy.ts';

const policy = { minFreeSeats: 50, maxFreeSeats: 250, maxReplicas: 10 };
const server = (players: number, extra: Partial<ServerLoadView> = {}): ServerLoadView => ({
  serverId: `ds-${players}-${Math.random()}`,
  capacity: 100,
  players,
  pending: 0,
  draining: false,
  playgrounds: players > 0 ? 1 : 0,
  ...extra,
});

test('seats below the minimum: enough replicas more to free minFreeSeats', () => {
  // 2 servers × 100 seats, 190 used: 10 free → 40 short → one more server.
  assert.deepEqual(fleetDemand([server(95), server(95)], 2, policy), {
    scale: true,
    replicas: 3,
    reason: 'free seats below the minimum',
  });
  // Unredeemed tickets hold seats too.
  assert.equal(fleetDemand([server(50, { pending: 50 }), server(100)], 2, policy).replicas, 3);
});

test('replicas still starting count as free seats, so a start is not asked for twice', () => {
  assert.deepEqual(fleetDemand([server(95), server(95)], 3, policy), {
    scale: false,
    replicas: 3,
    reason: 'within the thresholds',
  });
});

test('seats above the maximum: fewer replicas, never below minFreeSeats after', () => {
  // 5 empty servers: 500 free; down to 250 free would remove 3, leaving 200 ≥ 50.
  assert.equal(
    fleetDemand(
      [0, 0, 0, 0, 0].map((p) => server(p)),
      5,
      policy,
    ).replicas,
    2,
  );
  const tight = { ...policy, minFreeSeats: 240 };
  // 300 free, max 250: removing one leaves 200 < 240, so none goes.
  assert.equal(fleetDemand([server(0), server(0), server(0)], 3, tight).scale, false);
});

test('draining servers offer no seats; bounds are [1, maxReplicas]; nothing registered keeps the count', () => {
  assert.equal(fleetDemand([server(0, { draining: true }), server(90)], 2, policy).replicas, 3);
  assert.equal(fleetDemand([server(100), server(100)], 2, { ...policy, maxReplicas: 2 }).scale, false);
  assert.deepEqual(fleetDemand([], 2, policy), {
    scale: false,
    replicas: 2,
    reason: 'no server registered yet: keep the replicas',
  });
  assert.equal(fleetDemand([], 0, policy).replicas, 1);
});
