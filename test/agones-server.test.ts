import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadMessage } from '@plexus/protocol';
import { startComponent } from '@plexus/testkit';
import { startAgonesSdkServer } from '../packages/server/src/testing/agones-sdk-server.ts';
import { startTestBalancer } from '../packages/server/src/testing/test-balancer.ts';
import { TestClient } from '../packages/server/src/testing/test-client.ts';
import { freePort } from '../packages/testkit/src/free-port.ts';

// `plexus server` with PLEXUS_AGONES=true as a real process, its SDK talking to a loopback stand-in
// of the Agones sidecar (docs/deploy.md): SIGTERM, as Agones sends on scale-down, node drain or a
// rolling update, drains first and only then calls Shutdown.
test('Agones: SIGTERM drains the server (clients moved off, balancers told) before Shutdown', async () => {
  const secret = 'agones-test-cluster-secret';
  const balancer = await startTestBalancer({ secret });
  const port = await freePort();
  const sdk = await startAgonesSdkServer({
    name: 'plexus-ds-sigterm',
    address: '127.0.0.1',
    ports: [{ name: 'ws', port }],
  });
  let client: TestClient | null = null;
  try {
    const ds = await startComponent('agones-server', 'server', {
      PLEXUS_AGONES: 'true',
      AGONES_SDK_GRPC_PORT: String(sdk.port),
      PLEXUS_DS_PORT: String(port),
      PLEXUS_BALANCER_URL: balancer.url,
      PLEXUS_CLUSTER_SECRET: secret,
      PLEXUS_DS_AGONES_HEALTH_INTERVAL_MS: '50',
      PLEXUS_DS_DRAIN_TIMEOUT_MS: '500',
    });
    await sdk.waitFor('Ready');
    client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`);
    await client.join(await balancer.ticket({ aud: 'plexus-ds-sigterm', pg: 'expo-hall' }));
    await sdk.waitFor('Allocate');

    let clientGone = false;
    void client.closed.then(() => {
      clientGone = true;
    });
    let atShutdown: { clientGone: boolean; drainingReported: boolean } | null = null;
    sdk.onShutdown = () => {
      atShutdown = {
        clientGone,
        drainingReported: balancer.received.some((m) => m.type === 'load' && (m as LoadMessage).draining),
      };
    };
    assert.equal(await ds.stop(20_000), 0);
    assert.equal(sdk.count('Shutdown'), 1);
    assert.deepEqual(atShutdown, { clientGone: true, drainingReported: true });
    assert.ok(ds.logs.some((l) => l.msg === 'drained'));
  } finally {
    client?.close();
    await sdk.close();
    await balancer.close();
  }
});
