import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, DEV_SECRETS } from '@plexus/kit';
import { loadServerConfig } from './config.ts';

test('defaults match the documented limits', () => {
  const c = loadServerConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8100);
  assert.equal(c.capacity, 200);
  assert.equal(c.tickRateHz, 20);
  assert.equal(c.handshakeTimeoutMs, 5000);
  assert.equal(c.idleTimeoutMs, 15000);
  assert.equal(c.maxFrameBytes, 65536);
  assert.equal(c.rateLimitPerSec, 60);
  assert.equal(c.rateLimitBurst, 120);
  assert.equal(c.maxPendingHandshakesPerAddress, 16);
  assert.equal(c.maxSocketsPerAddress, 64);
  assert.equal(c.maxBufferedBytes, 262144);
  assert.equal(c.slowConsumerGraceMs, 5000);
  assert.equal(c.maxSpeedMps, 50);
  assert.equal(c.clusterSecret, DEV_SECRETS.clusterSecret);
});

test('environment variables override defaults and flags override the environment', () => {
  const c = loadServerConfig(
    {
      PLEXUS_DS_PORT: '9000',
      PLEXUS_DS_ID: 'ds-a',
      PLEXUS_DS_PUBLIC_URL: 'wss://play.example.test/ws',
      PLEXUS_TICK_RATE_HZ: '30',
      PLEXUS_DS_MAX_SPEED_MPS: '12.5',
    },
    { port: 9001 },
  );
  assert.equal(c.port, 9001);
  assert.equal(c.serverId, 'ds-a');
  assert.equal(c.publicUrl, 'wss://play.example.test/ws');
  assert.equal(c.tickRateHz, 30);
  assert.equal(c.maxSpeedMps, 12.5);
});

test('a bad value names its key and source', () => {
  assert.throws(
    () => loadServerConfig({ PLEXUS_TICK_RATE_HZ: 'fast' }),
    /tickRateHz \(from PLEXUS_TICK_RATE_HZ\)/,
  );
  assert.throws(() => loadServerConfig({ PLEXUS_DS_PUBLIC_URL: 'http://x/ws' }), ConfigError);
});

test('production refuses the development cluster secret', () => {
  assert.throws(() => loadServerConfig({ NODE_ENV: 'production' }), /PLEXUS_CLUSTER_SECRET/);
  assert.doesNotThrow(() =>
    loadServerConfig({ NODE_ENV: 'production', PLEXUS_CLUSTER_SECRET: 'a-production-cluster-secret' }),
  );
});

test('continuity settings: a list of balancers, checkpoint interval, resume grace, drain timeout', () => {
  const d = loadServerConfig({});
  assert.deepEqual(d.balancerUrl, ['http://127.0.0.1:8080']);
  assert.equal(d.checkpointMs, 1000);
  assert.equal(d.resumeGraceMs, 15000);
  assert.equal(d.drainTimeoutMs, 10000);
  const c = loadServerConfig({
    PLEXUS_BALANCER_URL: 'http://lb-a:8080, https://lb-b.example.test',
    PLEXUS_CHECKPOINT_MS: '250',
    PLEXUS_DS_RESUME_GRACE_MS: '0',
    PLEXUS_DS_DRAIN_TIMEOUT_MS: '3000',
  });
  assert.deepEqual(c.balancerUrl, ['http://lb-a:8080', 'https://lb-b.example.test']);
  assert.equal(c.checkpointMs, 250);
  assert.equal(c.resumeGraceMs, 0);
  assert.equal(c.drainTimeoutMs, 3000);
  assert.throws(() => loadServerConfig({ PLEXUS_BALANCER_URL: 'http://ok:1,ftp://bad' }), /balancerUrl/);
});
