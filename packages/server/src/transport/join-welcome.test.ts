import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Stack, startStack } from '../testing/stack.ts';

// docs/protocol.md §5.1: WELCOME and the first keyframe leave at admission, not at the next tick.
describe('joins in one round trip', () => {
  let stack: Stack;
  before(async () => {
    // One tick a second: a WELCOME that waited for a tick would show in the tick numbers below.
    stack = await startStack({ tickRateHz: 1 });
  });
  after(() => stack.close());

  const ticket = (firstName: string) =>
    stack.balancer.ticket({ aud: stack.server.serverId, pg: 'slow-ticks', prof: { firstName } });

  test('a client is welcomed before the next tick: others see its avatar one tick after its keyframe', async () => {
    const a = await stack.connect();
    const first = await a.join(await ticket('A'));
    const b = await stack.connect();
    const { welcome, keyframe } = await b.join(await ticket('B'));
    assert.ok(
      keyframe.spawns.some((s) => s.id === welcome.selfId),
      'the keyframe holds its own avatar',
    );
    assert.ok(
      keyframe.spawns.some((s) => s.id === first.welcome.selfId),
      'and the avatar already there',
    );
    const seen = await a.nextState((s) => s.spawns.some((e) => e.id === welcome.selfId));
    // Welcomed at admission, between ticks T and T + 1: its keyframe says T; the tick that sends
    // its avatar to everyone else is T + 1. (Welcomed by a tick, both would be that tick.)
    assert.equal(seen.tick, keyframe.tick + 1);
  });
});
