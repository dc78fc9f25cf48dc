import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { AppError } from '@plexus/kit';
import { startBalancer } from '../start.ts';
import { ControlClient, registerMessage, silentLogger, testConfig, waitFor } from '../test-support.ts';
import { AgonesProvider } from './agones-provider.ts';
import { GameServerAllocator } from './gameserver-allocation.ts';

// Contract test: the allocation client (the real @kubernetes/client-node) against a loopback HTTP
// server that answers as the Kubernetes API documents for GameServerAllocation (agones.dev,
// Reference → GameServerAllocation: POST to the namespaced collection, 201 with the object and its
// `status`; a `Status` object on failure). It is not Kubernetes: what Agones picks only a cluster shows.

const TOKEN = 'sa-token-for-the-contract-test';
const PATH = '/apis/allocation.agones.dev/v1/namespaces/plexus/gameserverallocations';

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

type Answer = { status: number; body: unknown };

function allocated(name: string, address: string, port: number, spec: unknown): Answer {
  return {
    status: 201,
    body: {
      apiVersion: 'allocation.agones.dev/v1',
      kind: 'GameServerAllocation',
      metadata: { namespace: 'plexus', creationTimestamp: '2026-12-02T12:00:00Z' },
      spec,
      status: {
        state: 'Allocated',
        gameServerName: name,
        ports: [
          { name: 'metrics', port: 9100 },
          { name: 'ws', port },
        ],
        address,
        addresses: [{ type: 'ExternalIP', address }],
        nodeName: 'node-a',
        source: 'local',
        metadata: { labels: { 'agones.dev/fleet': 'plexus-ds' }, annotations: {} },
      },
    },
  };
}

describe('GameServerAllocation contract (loopback Kubernetes API)', () => {
  let api: Server;
  let kubeConfig: KubeConfig;
  const requests: Recorded[] = [];
  let answer: (spec: unknown) => Answer = () => ({ status: 500, body: {} });

  before(async () => {
    api = createServer(async (req: IncomingMessage, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      });
      const a =
        req.method === 'POST' && req.url === PATH
          ? answer(body.spec)
          : {
              status: 404,
              body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 },
            };
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(a.body));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [
        {
          name: 'loopback',
          server: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
          // The client refuses plain HTTP unless told; a real API server is HTTPS with the pod's CA.
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'balancer', token: TOKEN }],
      contexts: [{ name: 'loopback', cluster: 'loopback', user: 'balancer' }],
      currentContext: 'loopback',
    });
  });
  after(() => new Promise<void>((resolve) => api.close(() => resolve())));
  beforeEach(() => {
    requests.length = 0;
  });

  const allocator = () =>
    new GameServerAllocator({
      kubeConfig,
      namespace: 'plexus',
      matchLabels: { 'agones.dev/fleet': 'plexus-ds' },
    });

  test('POSTs a GameServerAllocation selecting Ready servers of the fleet, with the ServiceAccount token', async () => {
    answer = (spec) => allocated('plexus-ds-8k2lp', '198.51.100.4', 7034, spec);
    const provider = new AgonesProvider({ allocator: allocator(), logger: silentLogger() });
    const server = await provider.start();
    assert.deepEqual(server, { id: 'plexus-ds-8k2lp', endpoint: 'ws://198.51.100.4:7034/ws' });
    assert.deepEqual(provider.list(), [server]);
    const [req] = requests;
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, PATH);
    assert.equal(req.authorization, `Bearer ${TOKEN}`);
    assert.match(req.contentType ?? '', /^application\/json/);
    assert.equal(req.body.apiVersion, 'allocation.agones.dev/v1');
    assert.equal(req.body.kind, 'GameServerAllocation');
    assert.deepEqual((req.body.spec as { selectors: unknown }).selectors, [
      { matchLabels: { 'agones.dev/fleet': 'plexus-ds' }, gameServerState: 'Ready' },
    ]);
    await provider.stop('plexus-ds-8k2lp');
    assert.deepEqual(provider.list(), []);
  });

  test('UnAllocated (no Ready server left) fails the start with LB_ALLOCATION_FAILED and holds nothing', async () => {
    answer = (spec) => ({
      status: 201,
      body: {
        apiVersion: 'allocation.agones.dev/v1',
        kind: 'GameServerAllocation',
        spec,
        status: { state: 'UnAllocated' },
      },
    });
    const provider = new AgonesProvider({ allocator: allocator(), logger: silentLogger() });
    await assert.rejects(provider.start(), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.errorName, 'LB_ALLOCATION_FAILED');
      assert.match(err.message, /UnAllocated/);
      return true;
    });
    assert.deepEqual(provider.list(), []);
  });

  test('a refusal (403 Status, RBAC missing) is LB_ALLOCATION_FAILED carrying the status and message', async () => {
    answer = () => ({
      status: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        message:
          'gameserverallocations.allocation.agones.dev is forbidden: User "system:serviceaccount:plexus:default" cannot create resource',
        reason: 'Forbidden',
        code: 403,
      },
    });
    await assert.rejects(allocator().allocate(), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.errorName, 'LB_ALLOCATION_FAILED');
      assert.match(err.message, /\(403: gameserverallocations\.allocation\.agones\.dev is forbidden/);
      return true;
    });
  });

  test('an Allocated answer without a port is refused, not turned into a bad endpoint', async () => {
    answer = (spec) => {
      const a = allocated('plexus-ds-x', '198.51.100.4', 7034, spec);
      (a.body as { status: { ports: unknown } }).status.ports = [];
      return a;
    };
    await assert.rejects(allocator().allocate(), /without gameServerName, address or ports/);
  });

  test('the balancer with PLEXUS_SERVER_PROVIDER=agones allocates when seats run low and drains an idle allocated server back', async () => {
    answer = (spec) => allocated('plexus-ds-idle1', '127.0.0.1', 7100, spec);
    const lb = await startBalancer(
      testConfig({
        serverProvider: 'agones',
        agonesNamespace: 'plexus',
        autoscaleIntervalMs: 50,
        autoscaleCooldownMs: 0,
        autoscaleMinFreeSeats: 10,
        autoscaleMaxFreeSeats: 100,
      }),
      { logger: silentLogger(), kubeConfig },
    );
    const clients: ControlClient[] = [];
    const register = async (serverId: string, capacity: number) => {
      const c = new ControlClient(lb.url);
      clients.push(c);
      await c.opened;
      c.send(registerMessage(serverId, { capacity }));
      assert.equal((await c.nextOfType('registered')).type, 'registered');
      return c;
    };
    try {
      // Nothing registered: 0 free seats < 10, so the balancer allocates.
      await waitFor(() => requests.length > 0, 5_000, 'an allocation request');
      // The allocated server registers (under Agones it is Ready only once registered), beside
      // another server: 550 free seats > 100, and without it 50 ≥ 10 stay free, so the idle
      // allocated server is drained back (it then exits and calls Shutdown itself).
      await register('ds-other', 50);
      const idle = await register('plexus-ds-idle1', 500);
      assert.deepEqual(await idle.nextOfType('command', 5_000), { type: 'command', command: 'drain' });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await lb.close();
    }
  });
});
