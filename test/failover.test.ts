import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PlexusClient } from '@plexus/client';
import {
  Fleet,
  type FleetMember,
  positionError,
  readCheckpoint,
  registeredServerIds,
  type Stack,
  startStack,
  waitFor,
} from '@plexus/testkit';

// Issue 5's fault tests against real processes on loopback: a dedicated server killed or drained
// under load, the balancer and the backend restarted, a partitioned server coming back late. Each
// prints its figures as test diagnostics.

const PLAYGROUNDS = ['fo-a', 'fo-b', 'fo-c', 'fo-d', 'fo-e', 'fo-f'];
const OPERATOR_KEY = 'failover-test-operator-key';

async function fleetOf(stack: Stack, perPlayground = 10): Promise<Fleet> {
  const fleet = await Fleet.join({ balancerUrl: stack.balancerUrl, playgrounds: PLAYGROUNDS, perPlayground });
  await fleet.checkpointed(stack.backendUrl, stack.partnerKey);
  return fleet;
}

/** Every moved member came back as the same avatar at its spot, without giving up. */
function assertRestored(members: FleetMember[]): void {
  for (const m of members) {
    assert.equal(m.disconnected, false, `${m.name} gave up`);
    assert.ok(m.reconnected.length > 0, `${m.name} did not reconnect`);
    assert.equal(m.pg.selfId, m.firstSelfId, `${m.name} lost its avatar id`);
    assert.equal(m.pg.entities, m.firstEntities, `${m.name}'s entities map was replaced`);
    assert.ok(positionError(m) < 0.01, `${m.name} is ${positionError(m).toFixed(3)} m off its spot`);
  }
}

function downtimes(members: FleetMember[]): string {
  const ms = members.map((m) => m.reconnected[0]?.downtimeMs ?? Number.NaN).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]?.toFixed(0);
  return `downtime over ${ms.length} clients: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`;
}

describe('failover with session continuity', { timeout: 240_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ servers: 3, env: { PLEXUS_OPERATOR_KEY: OPERATOR_KEY } });
  });
  after(async () => {
    await stack?.stop();
  });

  test('kill -9 one of three servers under 60 clients: every moved client resumes as itself', async (t) => {
    const fleet = await fleetOf(stack);
    try {
      const victimId = fleet.busiestServer();
      const moved = fleet.on(victimId);
      const stayed = fleet.members.filter((m) => !moved.includes(m));
      const victim = stack.server(victimId);
      assert.ok(victim, `process of ${victimId}`);
      await victim.kill();
      await fleet.reconnected(moved);
      assertRestored(moved);
      for (const m of moved) assert.notEqual(m.pg.serverId, victimId);
      for (const m of stayed) assert.equal(m.reconnecting, 0, `${m.name} was disturbed`);
      t.diagnostic(`${moved.length} clients moved off ${victimId}; ${downtimes(moved)}`);
    } finally {
      await fleet.leave();
    }
  });

  test('drain a server under load: its clients switch live, none disconnects or loses its avatar', async (t) => {
    await stack.addServer({ PLEXUS_DS_ID: 'ds-spare' });
    const fleet = await fleetOf(stack);
    try {
      const drainedId = fleet.busiestServer();
      const moved = fleet.on(drainedId);
      const res = await fetch(`${stack.balancerUrl}/lb/api/v0/admin/servers/${drainedId}/drain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_KEY}` },
      });
      assert.equal(res.status, 202);
      await fleet.reconnected(moved);
      assertRestored(moved);
      for (const m of moved) assert.equal(m.reconnected[0]?.reason, 'redirect');
      await waitFor(async () => !(await registeredServerIds(stack.balancerUrl)).includes(drainedId), {
        timeoutMs: 20_000,
        what: `${drainedId} gone after its drain`,
      });
      t.diagnostic(`${moved.length} clients drained off ${drainedId}; ${downtimes(moved)}`);
    } finally {
      await fleet.leave();
    }
  });

  test('restart the balancer, then the backend: connected clients notice nothing, joins resume', async () => {
    const fleet = await Fleet.join({
      balancerUrl: stack.balancerUrl,
      playgrounds: ['fo-restart'],
      perPlayground: 4,
    });
    try {
      const [mover, watcher] = fleet.members as [FleetMember, FleetMember];
      const seen = (x: number) =>
        waitFor(() => Math.abs((watcher.pg.entities.get(mover.pg.selfId)?.position.x ?? -1) - x) < 0.01, {
          timeoutMs: 5_000,
          what: `the watcher seeing the mover at x=${x}`,
        });

      const live = (await registeredServerIds(stack.balancerUrl)).length;
      await stack.restartBalancer();
      // The servers re-register within about a heartbeat; until then the balancer has nowhere to send a join.
      await waitFor(async () => (await registeredServerIds(stack.balancerUrl)).length >= live, {
        timeoutMs: 10_000,
        what: 'the servers registered with the restarted balancer',
      });
      // Small steps: the server refuses moves faster than its speed limit.
      const start = mover.position.x;
      mover.pg.move({ position: { x: start + 1, y: 0, z: mover.position.z } });
      await seen(start + 1);
      await joinOnce(stack.balancerUrl, 'fo-restart');

      await stack.restartBackend();
      mover.pg.move({ position: { x: start + 2, y: 0, z: mover.position.z } });
      await seen(start + 2);
      await joinOnce(stack.balancerUrl, 'fo-restart');

      for (const m of fleet.members) assert.equal(m.reconnecting, 0, `${m.name} was disturbed`);
    } finally {
      await fleet.leave();
    }
  });

  test('a partitioned server that comes back after its playground moved does not overwrite newer state', async () => {
    const fleet = await Fleet.join({
      balancerUrl: stack.balancerUrl,
      playgrounds: ['fo-partition'],
      perPlayground: 3,
    });
    try {
      await fleet.checkpointed(stack.backendUrl, stack.partnerKey);
      const frozenId = fleet.members[0]?.firstServerId ?? '';
      const frozen = stack.server(frozenId);
      assert.ok(frozen, `process of ${frozenId}`);
      const before = await readCheckpoint(stack.backendUrl, stack.partnerKey, 'fo-partition');
      assert.ok(before);

      frozen.proc.kill('SIGSTOP');
      try {
        // The clients notice the silence, the balancer declares the server dead, the playground
        // is restored elsewhere from its checkpoint.
        await fleet.reconnected(fleet.members);
        assertRestored(fleet.members);
        const newHome = fleet.members[0]?.pg.serverId;
        assert.notEqual(newHome, frozenId);
        for (const m of fleet.members) {
          m.position = { x: m.position.x + 1, y: 0, z: m.position.z };
          m.pg.move({ position: m.position });
        }
        await waitFor(
          async () => {
            const cp = await readCheckpoint(stack.backendUrl, stack.partnerKey, 'fo-partition');
            return (
              !!cp &&
              cp.serverId === newHome &&
              cp.epoch > before.epoch &&
              fleet.members.every((m) => {
                const avatar = cp.state.avatars.find((a) => a.entityId === m.firstSelfId);
                return !!avatar && Math.abs(avatar.position.x - m.position.x) < 0.01;
              })
            );
          },
          { timeoutMs: 10_000, what: 'a checkpoint from the new home with the newest positions' },
        );
      } finally {
        frozen.proc.kill('SIGCONT');
      }
      // Back from the freeze, the old server re-registers and is told to let the playground go.
      await waitFor(
        () =>
          frozen.logs.some((r) => r.playgroundId === 'fo-partition' && /releas|stale/i.test(String(r.msg))),
        {
          timeoutMs: 15_000,
          what: `${frozenId} letting fo-partition go`,
        },
      );
      const after = await readCheckpoint(stack.backendUrl, stack.partnerKey, 'fo-partition');
      assert.ok(after);
      assert.notEqual(after.serverId, frozenId);
      for (const m of fleet.members) {
        const avatar = after.state.avatars.find((a) => a.entityId === m.firstSelfId);
        assert.ok(avatar, `${m.name} in the newest checkpoint`);
        assert.ok(Math.abs(avatar.position.x - m.position.x) < 0.01, `${m.name}'s newest position kept`);
      }
    } finally {
      await fleet.leave();
    }
  });
});

/** A fresh guest joins a playground through the balancer and leaves again. */
async function joinOnce(balancerUrl: string, playgroundId: string): Promise<void> {
  const client = new PlexusClient({ balancerUrl });
  await client.loginAsGuest({ firstName: 'Late' });
  const pg = await client.join({ playgroundId });
  await pg.leave();
}
