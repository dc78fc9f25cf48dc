import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerRegistry } from './registry.ts';

function register(
  registry: ServerRegistry,
  serverId: string,
  playgrounds: { playgroundId: string; players: number }[] = [],
) {
  return registry.register({
    serverId,
    endpoint: `ws://127.0.0.1:1/${serverId}`,
    capacity: 10,
    version: '1',
    protocolVersion: 1,
    playgrounds,
  });
}

test('register maps the playgrounds a server already hosts; a second claimant is a conflict', () => {
  const registry = new ServerRegistry({ now: () => 0 });
  register(registry, 'a', [{ playgroundId: 'hall', players: 2 }]);
  assert.equal(registry.homeOf('hall'), 'a');
  assert.equal(registry.get('a')?.players, 2);
  const conflicts = register(registry, 'b', [{ playgroundId: 'hall', players: 1 }]);
  assert.deepEqual(conflicts, [{ playgroundId: 'hall', home: 'a', reportedBy: 'b' }]);
  assert.equal(registry.homeOf('hall'), 'a');
});

test('a load report re-establishes mappings and drops stale ones without pending seats', () => {
  let t = 0;
  const registry = new ServerRegistry({ now: () => t });
  register(registry, 'a');
  registry.assign('placed-waiting', 'a');
  registry.assign('placed-abandoned', 'a');
  t = 1_000;
  registry.applyLoad(
    'a',
    { players: 3, playgrounds: [{ playgroundId: 'reported', players: 3 }], cpu: 0.2, tickMs: 1.5 },
    (pg) => pg === 'placed-waiting',
  );
  assert.equal(registry.homeOf('reported'), 'a');
  assert.equal(registry.homeOf('placed-waiting'), 'a');
  assert.equal(registry.homeOf('placed-abandoned'), undefined);
  const entry = registry.get('a');
  assert.equal(entry?.players, 3);
  assert.equal(entry?.lastReportAtMs, 1_000);
  assert.equal(entry?.cpu, 0.2);
});

test('removing a server drops its playground mappings', () => {
  const registry = new ServerRegistry();
  register(registry, 'a', [{ playgroundId: 'p1', players: 1 }]);
  register(registry, 'b', [{ playgroundId: 'p2', players: 1 }]);
  assert.deepEqual(registry.remove('a'), ['p1']);
  assert.equal(registry.homeOf('p1'), undefined);
  assert.equal(registry.homeOf('p2'), 'b');
  assert.equal(registry.size, 1);
  assert.deepEqual(registry.remove('a'), []);
});

test('a redeemed ticket counts as a player before the next report', () => {
  const registry = new ServerRegistry();
  register(registry, 'a');
  registry.notePlayerJoined('a', 'hall');
  assert.equal(registry.get('a')?.players, 1);
  assert.equal(registry.get('a')?.playgrounds.get('hall'), 1);
  assert.equal(registry.totalPlayers(), 1);
});
