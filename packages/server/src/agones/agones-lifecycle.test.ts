import assert from 'node:assert/strict';
import { after, afterEach, describe, test } from 'node:test';
import type { RegisterMessage } from '@plexus/protocol';
import { freePort } from '@plexus/testkit';
import {
  type AgonesSdkServer,
  type GameServerStatus,
  startAgonesSdkServer,
} from '../testing/agones-sdk-server.ts';
import { type Stack, startStack, waitUntil } from '../testing/stack.ts';

// The server under Agones (docs/deploy.md) against a loopback stand-in of the SDK sidecar: the
// real @google-cloud/agones-sdk client, a gRPC server implementing agones.dev.sdk.SDK.

const INTERVAL_MS = 20;

describe('dedicated server under Agones (loopback SDK sidecar)', () => {
  let sdk: AgonesSdkServer | null = null;
  let stack: Stack | null = null;
  const savedPort = process.env.AGONES_SDK_GRPC_PORT;

  /** A sidecar answering `status`, and the SDK pointed at it (the SDK reads AGONES_SDK_GRPC_PORT). */
  async function sidecar(status: GameServerStatus): Promise<AgonesSdkServer> {
    sdk = await startAgonesSdkServer(status);
    process.env.AGONES_SDK_GRPC_PORT = String(sdk.port);
    return sdk;
  }

  /** A sidecar whose GameServer status points at the port the server will listen on. */
  async function reachable(name = 'plexus-ds-x1y2z') {
    const port = await freePort();
    return { port, sdk: await sidecar({ name, address: '127.0.0.1', ports: [{ name: 'ws', port }] }) };
  }

  afterEach(async () => {
    await stack?.close();
    stack = null;
    await sdk?.close();
    sdk = null;
  });
  after(() => {
    if (savedPort === undefined) delete process.env.AGONES_SDK_GRPC_PORT;
    else process.env.AGONES_SDK_GRPC_PORT = savedPort;
  });

  test('registers with the endpoint and id of the GameServer status, and is not Ready before a balancer accepts it', async () => {
    const s = await sidecar({
      name: 'plexus-ds-7f9kq',
      address: '203.0.113.7',
      ports: [
        { name: 'metrics', port: 9000 },
        { name: 'ws', port: 7777 },
      ],
    });
    stack = await startStack(
      { agones: true, serverId: '', agonesHealthIntervalMs: INTERVAL_MS },
      { answerRegister: false },
    );
    const register = await stack.balancer.waitFor((m): m is RegisterMessage => m.type === 'register');
    assert.equal(register.serverId, 'plexus-ds-7f9kq');
    assert.equal(register.endpoint, 'ws://203.0.113.7:7777/ws');
    assert.equal(stack.server.endpoint, 'ws://203.0.113.7:7777/ws');
    // Ten state checks ran (each pings health) while the balancer had not answered the registration.
    await s.waitFor('Health', 10);
    assert.equal(s.count('Ready'), 0);
  });

  test('Ready once registered with a balancer, after reading the GameServer', async () => {
    const { port, sdk: s } = await reachable();
    stack = await startStack({ agones: true, serverId: '', port, agonesHealthIntervalMs: INTERVAL_MS });
    await s.waitFor('Ready');
    const first = s.calls.find((c) => c.method === 'GetGameServer');
    const ready = s.calls.find((c) => c.method === 'Ready');
    assert.ok(first && ready && first.seq < ready.seq);
    assert.equal(s.count('Allocate'), 0, 'an idle server stays Ready (the Fleet may scale it down)');
  });

  test('Allocated on first hosting, Ready again once it hosts nothing', async () => {
    const { port, sdk: s } = await reachable('plexus-ds-host1');
    stack = await startStack({
      agones: true,
      serverId: '',
      port,
      agonesHealthIntervalMs: INTERVAL_MS,
      playgroundIdleMs: 50,
      resumeGraceMs: 0,
    });
    await s.waitFor('Ready');
    const c = await stack.connect();
    await c.join(await stack.balancer.ticket({ aud: 'plexus-ds-host1', pg: 'expo-hall' }));
    await s.waitFor('Allocate');
    c.close();
    // The empty playground is removed after playgroundIdleMs; then the server gives itself back.
    await s.waitFor('Ready', 2);
    const allocate = s.calls.find((c) => c.method === 'Allocate');
    const readyAgain = s.calls.filter((c) => c.method === 'Ready')[1];
    assert.ok(allocate && readyAgain && allocate.seq < readyAgain.seq);
  });

  test('health pings while the tick runs, none while it is stalled, again once it runs', async () => {
    const { port, sdk: s } = await reachable();
    // Ticks run only when the test fires them: a stalled tick loop with a live event loop.
    let pending: (() => void) | null = null;
    const scheduler = {
      setTimeout: (fn: () => void) => {
        pending = fn;
        return fn;
      },
      clearTimeout: () => {
        pending = null;
      },
    };
    const tick = () => {
      const fn = pending;
      pending = null;
      fn?.();
    };
    const ticking = setInterval(tick, 10);
    try {
      stack = await startStack(
        { agones: true, serverId: '', port, agonesHealthIntervalMs: INTERVAL_MS, agonesTickStallMs: 150 },
        { scheduler },
      );
      const before = s.count('Health');
      await s.waitFor('Health', before + 5);
      clearInterval(ticking);
      const logs = stack.logs;
      await waitUntil(() => logs.some((l) => l.includes('agones: tick stalled, health withheld')));
      const atStall = s.count('Health');
      // An observation window of 15 check intervals with no tick: no ping may arrive in it.
      await new Promise((r) => setTimeout(r, 15 * INTERVAL_MS));
      assert.equal(s.count('Health'), atStall);
      const resumed = setInterval(tick, 10);
      try {
        await s.waitFor('Health', atStall + 3);
        assert.ok(logs.some((l) => l.includes('agones: tick running again')));
      } finally {
        clearInterval(resumed);
      }
    } finally {
      clearInterval(ticking);
    }
  });
});
