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
  assert.equal(config.operatorKey, DEV_SECRETS.operatorKey);
  assert.equal(config.deadAfterMisses, 3);
  assert.equal(config.redisUrl, undefined);
  assert.equal(config.lbId, undefined);
});

test('environment variables override defaults', () => {
  const config = loadBalancerConfig({
    PLEXUS_LB_PORT: '9090',
    PLEXUS_BACKEND_URL: 'http://10.0.0.1:1234',
    PLEXUS_AUTH_CACHE_TTL_MS: '0',
    PLEXUS_LB_HEARTBEAT_MS: '250',
    PLEXUS_WEB_ROOT: '/srv/web',
    PLEXUS_LB_DEAD_AFTER_MISSES: '5',
    PLEXUS_REDIS_URL: 'redis://10.0.0.2:6379/1',
    PLEXUS_LB_ID: 'lb-east',
  });
  assert.equal(config.port, 9090);
  assert.equal(config.backendUrl, 'http://10.0.0.1:1234');
  assert.equal(config.authCacheTtlMs, 0);
  assert.equal(config.heartbeatIntervalMs, 250);
  assert.equal(config.webRoot, '/srv/web');
  assert.equal(config.deadAfterMisses, 5);
  assert.equal(config.redisUrl, 'redis://10.0.0.2:6379/1');
  assert.equal(config.lbId, 'lb-east');
});

test('a bad Redis URL or balancer id is refused, naming the variable', () => {
  assert.throws(
    () => loadBalancerConfig({ PLEXUS_REDIS_URL: 'http://x' }),
    /redisUrl \(from PLEXUS_REDIS_URL\)/,
  );
  assert.throws(() => loadBalancerConfig({ PLEXUS_LB_ID: 'has space' }), /lbId \(from PLEXUS_LB_ID\)/);
  assert.throws(
    () => loadBalancerConfig({ PLEXUS_LB_DEAD_AFTER_MISSES: '0' }),
    /deadAfterMisses \(from PLEXUS_LB_DEAD_AFTER_MISSES\)/,
  );
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
  assert.throws(
    () =>
      loadBalancerConfig({
        NODE_ENV: 'production',
        PLEXUS_PARTNER_KEY: 'a-real-partner-key-123',
        PLEXUS_CLUSTER_SECRET: 'a-real-cluster-secret-456',
      }),
    /PLEXUS_OPERATOR_KEY must be set/,
  );
  const config = loadBalancerConfig({
    NODE_ENV: 'production',
    PLEXUS_PARTNER_KEY: 'a-real-partner-key-123',
    PLEXUS_CLUSTER_SECRET: 'a-real-cluster-secret-456',
    PLEXUS_OPERATOR_KEY: 'a-real-operator-key-789',
  });
  assert.equal(config.clusterSecret, 'a-real-cluster-secret-456');
});

test('avatar origins: empty by default, a comma-separated list of origins, anything else refused', () => {
  assert.deepEqual(loadBalancerConfig({}).webAvatarOrigins, []);
  assert.equal(loadBalancerConfig({}).webAvatarMaxBytes, 4 * 1024 * 1024);
  const config = loadBalancerConfig({
    PLEXUS_WEB_AVATAR_ORIGINS: 'https://models.example.com, http://127.0.0.1:9000/',
    PLEXUS_WEB_AVATAR_MAX_BYTES: '1048576',
  });
  assert.deepEqual(config.webAvatarOrigins, ['https://models.example.com', 'http://127.0.0.1:9000']);
  assert.equal(config.webAvatarMaxBytes, 1_048_576);
  for (const bad of ['https://models.example.com/avatars', 'ftp://x.example.com', 'not a url']) {
    assert.throws(
      () => loadBalancerConfig({ PLEXUS_WEB_AVATAR_ORIGINS: bad }),
      /webAvatarOrigins[.0-9]* \(from PLEXUS_WEB_AVATAR_ORIGINS\)/,
      bad,
    );
  }
});
