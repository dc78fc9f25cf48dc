import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, cfg, DEV_SECRETS, loadConfig, refuseDevSecrets, z } from './config.ts';

const schema = z.object({ port: cfg.port(8080), verbose: cfg.bool(false), name: cfg.string('a') });
const env = { port: 'TEST_PORT', verbose: 'TEST_VERBOSE', name: 'TEST_NAME' } as const;

test('defaults < file < environment < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kit-config-'));
  try {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 9000, name: 'from-file', verbose: true }));
    assert.deepEqual(loadConfig({ schema, env, environment: {} }), { port: 8080, verbose: false, name: 'a' });
    assert.deepEqual(loadConfig({ schema, env, environment: {}, file }), {
      port: 9000,
      verbose: true,
      name: 'from-file',
    });
    assert.deepEqual(
      loadConfig({ schema, env, environment: { TEST_PORT: '9100', TEST_VERBOSE: 'false' }, file }),
      {
        port: 9100,
        verbose: false,
        name: 'from-file',
      },
    );
    assert.equal(loadConfig({ schema, env, environment: { TEST_PORT: '9100' }, flags: { port: 1 } }).port, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad value names the key and where it came from', () => {
  assert.throws(
    () => loadConfig({ schema, env, environment: { TEST_PORT: 'eighty' } }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /port \(from TEST_PORT\)/);
      return true;
    },
  );
  assert.throws(() => loadConfig({ schema, env, environment: { TEST_VERBOSE: 'yes' } }), /verbose/);
  assert.throws(() => loadConfig({ schema, env, environment: {}, flags: { bogus: 1 } as never }), /bogus/);
});

test('development secrets are refused in production only', () => {
  const secrets = { partnerKey: DEV_SECRETS.partnerKey };
  assert.doesNotThrow(() => refuseDevSecrets(secrets, { partnerKey: 'PLEXUS_PARTNER_KEY' }, {}));
  assert.throws(
    () => refuseDevSecrets(secrets, { partnerKey: 'PLEXUS_PARTNER_KEY' }, { NODE_ENV: 'production' }),
    /PLEXUS_PARTNER_KEY must be set/,
  );
  assert.doesNotThrow(() =>
    refuseDevSecrets(
      { partnerKey: 'a-real-secret-value' },
      { partnerKey: 'PLEXUS_PARTNER_KEY' },
      { NODE_ENV: 'production' },
    ),
  );
});

test('NODE_ENV must be exactly a known value: a near miss of production is refused, naming NODE_ENV', () => {
  const secrets = { partnerKey: DEV_SECRETS.partnerKey };
  for (const nodeEnv of ['Production', ' production', 'PRODUCTION', 'prod', 'staging']) {
    assert.throws(
      () => refuseDevSecrets(secrets, { partnerKey: 'PLEXUS_PARTNER_KEY' }, { NODE_ENV: nodeEnv }),
      (err: Error) => err instanceof ConfigError && err.message.includes(`NODE_ENV must be exactly`),
    );
  }
  for (const nodeEnv of [undefined, '', 'development', 'test']) {
    refuseDevSecrets(secrets, { partnerKey: 'PLEXUS_PARTNER_KEY' }, { NODE_ENV: nodeEnv });
  }
});
