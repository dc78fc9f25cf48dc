import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError, DEV_SECRETS } from '@plexus/kit';
import { DEV_CLUSTER_ENV, loadDevClusterConfig } from './dev-config.ts';

test('defaults: 2 servers autoscaled up to 4, the development operator key', () => {
  const c = loadDevClusterConfig({});
  assert.equal(c.serverCount, 2);
  assert.equal(c.serverMax, 4);
  assert.equal(c.autoscale, true);
  assert.equal(c.operatorKey, DEV_SECRETS.operatorKey);
  assert.equal(c.serverIdPrefix, 'ds');
  assert.deepEqual(
    [c.minFreeSeats, c.maxFreeSeats, c.autoscaleIntervalMs, c.autoscaleCooldownMs],
    [50, 250, 2_000, 10_000],
  );
  assert.deepEqual(
    [c.restartMinMs, c.restartMaxMs, c.restartResetAfterMs, c.restartMaxCrashes],
    [250, 10_000, 30_000, 5],
  );
});

test('the maximum follows a larger count unless set', () => {
  assert.equal(loadDevClusterConfig({ PLEXUS_DS_COUNT: '6' }).serverMax, 6);
  assert.equal(loadDevClusterConfig({ PLEXUS_DS_COUNT: '1', PLEXUS_DS_MAX: '3' }).serverMax, 3);
  assert.equal(loadDevClusterConfig({ PLEXUS_AUTOSCALE: 'false' }).autoscale, false);
});

test('bad values stop the start-up naming the variable', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ PLEXUS_DS_COUNT: '0' }, /PLEXUS_DS_COUNT/],
    [
      { PLEXUS_DS_COUNT: '3', PLEXUS_DS_MAX: '2' },
      /PLEXUS_DS_MAX \(2\) must be at least PLEXUS_DS_COUNT \(3\)/,
    ],
    [{ PLEXUS_AUTOSCALE_MIN_FREE_SEATS: '10', PLEXUS_AUTOSCALE_MAX_FREE_SEATS: '10' }, /MAX_FREE_SEATS/],
    [{ PLEXUS_RESTART_MIN_MS: '500', PLEXUS_RESTART_MAX_MS: '100' }, /PLEXUS_RESTART_MAX_MS/],
    [{ PLEXUS_AUTOSCALE: 'maybe' }, /PLEXUS_AUTOSCALE/],
    [{ PLEXUS_OPERATOR_KEY: 'short' }, /PLEXUS_OPERATOR_KEY/],
    [{ PLEXUS_DS_ID: 'no spaces' }, /PLEXUS_DS_ID/],
  ];
  for (const [env, message] of bad) {
    assert.throws(
      () => loadDevClusterConfig(env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        return true;
      },
    );
  }
});

test('every variable is documented in docs/config.md', () => {
  const doc = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
  for (const name of Object.values(DEV_CLUSTER_ENV))
    assert.ok(doc.includes(`\`${name}\``), `${name} in config.md`);
});
