import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerView } from '../cluster-store.ts';
import { CONSOLE_MAX_PLAYGROUNDS, consoleSnapshot } from './snapshot.ts';

function server(serverId: string, balancers: string[], players: number, draining = false): ServerView {
  return {
    serverId,
    endpoint: `ws://127.0.0.1:9100/${serverId}`,
    capacity: 100,
    version: '0.1.0',
    protocolVersion: 1,
    players,
    playgrounds: [{ playgroundId: `${serverId}-pg`, players, epoch: 2, checkpointAgeMs: 300 }],
    cpu: 0,
    tickMs: 1,
    entities: players,
    bytesOutPerSec: 0,
    tickP50Ms: 1,
    tickP99Ms: 2,
    checkpointLagMs: 0,
    backpressureSkips: 0,
    draining,
    pending: 0,
    registeredAtMs: 0,
    lastReportAtMs: 0,
    balancers,
  };
}

test('several balancers are listed by the servers they hold, this one always', () => {
  const snap = consoleSnapshot({
    servers: [server('ds-1', ['lb-a'], 3), server('ds-2', ['lb-a', 'lb-b'], 5, true)],
    dead: [],
    lbId: 'lb-c',
    mode: 'redis',
    nowMs: 0,
  });
  assert.deepEqual(snap.balancers, [
    { lbId: 'lb-a', servers: 2, players: 8, self: false },
    { lbId: 'lb-b', servers: 1, players: 5, self: false },
    { lbId: 'lb-c', servers: 0, players: 0, self: true },
  ]);
  assert.deepEqual(
    snap.servers.map((s) => s.state),
    ['ready', 'draining'],
  );
  assert.deepEqual(
    snap.playgrounds.map((p) => [p.playgroundId, p.serverId]),
    [
      ['ds-2-pg', 'ds-2'],
      ['ds-1-pg', 'ds-1'],
    ],
  );
});

test('dead servers follow the live ones, once, unless the id is alive again', () => {
  const snap = consoleSnapshot({
    servers: [server('ds-1', ['lb-a'], 0)],
    dead: [
      { serverId: 'ds-9', endpoint: 'ws://x/ds-9', diedAtMs: 5000, reason: 'heartbeat', playgrounds: 2 },
      { serverId: 'ds-1', endpoint: 'ws://x/ds-1', diedAtMs: 4000, reason: 'closed', playgrounds: 1 },
      { serverId: 'ds-9', endpoint: 'ws://x/ds-9', diedAtMs: 3000, reason: 'closed', playgrounds: 1 },
    ],
    lbId: 'lb-a',
    mode: 'memory',
    nowMs: 0,
  });
  assert.deepEqual(
    snap.servers.map((s) => [s.serverId, s.state, s.reason]),
    [
      ['ds-1', 'ready', undefined],
      ['ds-9', 'dead', 'heartbeat'],
    ],
  );
});

test(`at most ${CONSOLE_MAX_PLAYGROUNDS} playgrounds, the busiest; the total counts all`, () => {
  const big = server('ds-1', ['lb-a'], 0);
  big.playgrounds = Array.from({ length: CONSOLE_MAX_PLAYGROUNDS + 5 }, (_, i) => ({
    playgroundId: `pg-${i}`,
    players: i,
  }));
  const snap = consoleSnapshot({ servers: [big], dead: [], lbId: 'lb-a', mode: 'memory', nowMs: 0 });
  assert.equal(snap.playgrounds.length, CONSOLE_MAX_PLAYGROUNDS);
  assert.equal(snap.playgroundsTotal, CONSOLE_MAX_PLAYGROUNDS + 5);
  assert.equal(snap.playgrounds[0]?.players, CONSOLE_MAX_PLAYGROUNDS + 4);
  assert.equal(snap.playgrounds[0]?.epoch, null);
});
