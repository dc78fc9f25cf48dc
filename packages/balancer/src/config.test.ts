import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, DEV_SECRETS } from '@plexus/kit';
import { loadBalancerConfig } from './config.ts';

test('defaults match the documented contract', () => {
  const config = loadBalancerConfig({});
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.equal(config.backendUrl, 'http://127.0.0.1:8081');
  assert.equal(config.ticketTtlMs, 30_000);
  assert.equal(config.authCacheTtlMs, 2_000);
  assert.equal(config.heartbeatIntervalMs, 1_000);
  assert.equal(config.webRoot, undefined);
  assert.equal(config.clusterSecret, DEV_SECRETS.clusterSecret);
});

test('environment variables override defaults', () => {
  const config = loadBalancerConfig({
    PLEXUS_LB_PORT: '9090',
    PLEXUS_BACKEND_URL: 'http://10.0.0.1:1234',
    PLEXUS_AUTH_CACHE_TTL_MS: '0',
    PLEXUS_LB_HEARTBEAT_MS: '250',
    PLEXUS_WEB_ROOT: '/srv/web',
  });
  assert.equal(config.port, 9090);
  assert.equal(config.backendUrl, 'http://10.0.0.1:1234');
  assert.equal(config.authCacheTtlMs, 0);
  assert.equal(config.heartbeatIntervalMs, 250);
  assert.equal(config.webRoot, '/srv/web');
});

test('a ticket TTL above 30 s is refused, naming the variable', () => {
  assert.throws(
    () => loadBalancerConfig({ PLEXUS_TICKET_TTL_MS: '60000' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /ticketTtlMs \(from PLEXUS_TICKET_TTL_MS\)/);
      return true;
    },
  );
});

test('production refuses the development secrets', () => {
  assert.throws(() => loadBalancerConfig({ NODE_ENV: 'production' }), /PLEXUS_PARTNER_KEY must be set/);
  assert.throws(
    () => loadBalancerConfig({ NODE_ENV: 'production', PLEXUS_PARTNER_KEY: 'a-real-partner-key-123' }),
    /PLEXUS_CLUSTER_SECRET must be set/,
  );
  const config = loadBalancerConfig({
    NODE_ENV: 'production',
    PLEXUS_PARTNER_KEY: 'a-real-partner-key-123',
    PLEXUS_CLUSTER_SECRET: 'a-real-cluster-secret-456',
  });
  assert.equal(config.clusterSecret, 'a-real-cluster-secret-456');
});
