import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import type { PlayerRecord } from '@plexus/protocol';
import { type Stack, startStack, waitFor } from '@plexus/testkit';

// Issue 6's services end to end through real processes: player data saved by the dedicated server
// (through its balancer socket) and given back on the next join, and analytics recorded by every
// component reaching the operator's summary.

const OPERATOR_KEY = 'backend-services-operator-key';

describe('player data and analytics across the stack', { timeout: 120_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ servers: 1, env: { PLEXUS_OPERATOR_KEY: OPERATOR_KEY } });
  });
  after(async () => {
    await stack?.stop();
  });

  async function rpc<T>(kind: 'partnerRpc' | 'operatorRpc', method: string, body: unknown): Promise<T> {
    const key = kind === 'partnerRpc' ? stack.partnerKey : OPERATOR_KEY;
    const res = await fetch(`${stack.backendUrl}/api/v0/${kind}/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const envelope = (await res.json()) as { data: T; error: unknown };
    assert.equal(res.status, 200, JSON.stringify(envelope.error));
    return envelope.data;
  }

  test('a returning user appears where they left', async () => {
    const client = new PlexusClient({ balancerUrl: stack.balancerUrl });
    const user = await client.loginAsGuest({ firstName: 'Returner' });
    const first = await client.join({ playgroundId: 'player-data' });
    const watcher = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await watcher.loginAsGuest({ firstName: 'Watcher' });
    const watching = await watcher.join({ playgroundId: 'player-data' });
    const spot = { x: 3, y: 0, z: 4 };
    first.move({ position: spot });
    // Seen by another client: the server applied the move (moves apply at the tick).
    await waitFor(() => Math.abs((watching.entities.get(first.selfId)?.position.x ?? 0) - spot.x) < 0.01, {
      what: 'the move applied by the server',
    });
    await first.leave();
    await watching.leave();

    // The server saves the last position on leave; read it back as the backend holds it.
    await waitFor(
      async () => {
        const { record } = await rpc<{ record: PlayerRecord | null }>('operatorRpc', 'players.get', {
          userId: user.id,
          playgroundId: 'player-data',
        });
        return !!record?.position && Math.abs(record.position.x - spot.x) < 0.01;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the last position saved' },
    );

    const again = await client.join({ playgroundId: 'player-data' });
    const self = again.self;
    assert.ok(self);
    assert.ok(Math.abs(self.position.x - spot.x) < 0.01 && Math.abs(self.position.z - spot.z) < 0.01);
    await again.leave();
  });

  test('joins, leaves with session length and refusals reach the operator summary', async () => {
    const from = Date.now() - 1_000;
    for (const name of ['Ann', 'Ben']) {
      const client = new PlexusClient({ balancerUrl: stack.balancerUrl });
      await client.loginAsGuest({ firstName: name });
      const pg = await client.join({ playgroundId: 'analytics-hall' });
      await pg.leave();
    }
    // A refused join: a closed catalogue playground.
    await rpc('operatorRpc', 'playgrounds.create', {
      id: 'closed-hall',
      name: 'Closed',
      type: 'open-world',
      capacity: 5,
    });
    await rpc('operatorRpc', 'playgrounds.close', { id: 'closed-hall' });
    const refused = new PlexusClient({ balancerUrl: stack.balancerUrl });
    await refused.loginAsGuest({ firstName: 'Cat' });
    await assert.rejects(refused.join({ playgroundId: 'closed-hall' }), /MATCH_PLAYGROUND_CLOSED/);

    type Summary = {
      playgrounds: { playgroundId: string; joins: number; leaves: number; avgSessionMs: number | null }[];
      refusals: { reason: string | null; count: number }[];
    };
    let summary: Summary | undefined;
    await waitFor(
      async () => {
        summary = await rpc<Summary>('operatorRpc', 'analytics.summary', {
          from,
          to: Date.now() + 60_000,
          bucketMs: 60_000,
        });
        const hall = summary.playgrounds.find((p) => p.playgroundId === 'analytics-hall');
        return !!hall && hall.joins >= 2 && hall.leaves >= 2 && summary.refusals.length > 0;
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'the summary showing the joins, leaves and refusal' },
    );
    const hall = summary?.playgrounds.find((p) => p.playgroundId === 'analytics-hall');
    assert.ok(hall?.avgSessionMs !== null && (hall?.avgSessionMs ?? -1) >= 0);
    assert.ok(summary?.refusals.some((r) => r.reason === 'MATCH_PLAYGROUND_CLOSED'));
  });
});
