import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, DEV_SECRETS } from '@plexus/kit';
import { loadBackendConfig } from './config.ts';

test('defaults match the documented contract', () => {
  assert.deepEqual(loadBackendConfig({}), {
    host: '127.0.0.1',
    port: 8081,
    dataDir: './data',
    partnerKey: DEV_SECRETS.partnerKey,
    operatorKey: DEV_SECRETS.operatorKey,
    eventInboxTtlMs: 3_600_000,
    presenceTtlMs: 30_000,
    sessionTtlMs: 86_400_000,
    playgroundCapacity: 50,
    matchmakingSeatTtlMs: 600_000,
    dbBusyTimeoutMs: 5_000,
    dbPoolSize: 10,
    maxConnectionsPerAddress: 4_096,
    logLevel: 'info',
  });
});

test('file < environment < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-backend-config-'));
  try {
    const file = join(dir, 'backend.json');
    writeFileSync(file, JSON.stringify({ port: 9000, dataDir: '/from/file', playgroundCapacity: 8 }));
    const config = loadBackendConfig(
      {
        PLEXUS_CONFIG_FILE: file,
        PLEXUS_BACKEND_PORT: '9001',
        PLEXUS_PLAYGROUND_CAPACITY: '12',
        PLEXUS_SESSION_TTL_MS: '5000',
        PLEXUS_MATCHMAKING_SEAT_TTL_MS: '60000',
        PLEXUS_PARTNER_KEY: 'a-long-enough-partner-key',
      },
      { port: 0 },
    );
    assert.equal(config.port, 0);
    assert.equal(config.dataDir, '/from/file');
    assert.equal(config.playgroundCapacity, 12);
    assert.equal(config.sessionTtlMs, 5000);
    assert.equal(config.matchmakingSeatTtlMs, 60000);
    assert.equal(config.partnerKey, 'a-long-enough-partner-key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad value names its key and source', () => {
  assert.throws(
    () => loadBackendConfig({ PLEXUS_PLAYGROUND_CAPACITY: 'lots' }),
    (err: Error) =>
      err instanceof ConfigError &&
      /playgroundCapacity \(from PLEXUS_PLAYGROUND_CAPACITY\)/.test(err.message),
  );
  assert.throws(() => loadBackendConfig({ PLEXUS_PARTNER_KEY: 'short' }), /partnerKey/);
});

test('production refuses the development partner and operator keys', () => {
  assert.throws(() => loadBackendConfig({ NODE_ENV: 'production' }), /PLEXUS_PARTNER_KEY must be set/);
  assert.throws(
    () => loadBackendConfig({ NODE_ENV: 'production', PLEXUS_PARTNER_KEY: 'a-real-production-secret' }),
    /PLEXUS_OPERATOR_KEY must be set/,
  );
  const config = loadBackendConfig({
    NODE_ENV: 'production',
    PLEXUS_PARTNER_KEY: 'a-real-production-secret',
    PLEXUS_OPERATOR_KEY: 'a-real-operator-secret',
  });
  assert.equal(config.partnerKey, 'a-real-production-secret');
  assert.equal(config.operatorKey, 'a-real-operator-secret');
});

test('PLEXUS_DATABASE_URL must be a postgres URL', () => {
  assert.equal(
    loadBackendConfig({ PLEXUS_DATABASE_URL: 'postgres://u@127.0.0.1:5432/plexus' }).databaseUrl,
    'postgres://u@127.0.0.1:5432/plexus',
  );
  assert.throws(() => loadBackendConfig({ PLEXUS_DATABASE_URL: 'mysql://x' }), /databaseUrl/);
});
