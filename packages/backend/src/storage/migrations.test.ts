import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { loadMigrations } from './migrations.ts';

/** A migrations directory holding `files` (name → SQL); removed after the test. */
function dirWith(t: { after(fn: () => void): void }, files: Record<string, string>): URL {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-migrations-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return pathToFileURL(`${dir}/`);
}

test('the shipped migrations load for both engines, with the same versions in order', () => {
  const sqlite = loadMigrations('sqlite');
  const postgres = loadMigrations('postgres');
  assert.ok(sqlite.length >= 1);
  assert.deepEqual(
    sqlite.map((m) => [m.version, m.name]),
    postgres.map((m) => [m.version, m.name]),
  );
  assert.deepEqual(
    sqlite.map((m) => m.version),
    [...sqlite.map((m) => m.version)].sort((a, b) => a - b),
  );
  assert.equal(sqlite[0]?.name, 'init');
});

test('an engine-specific file replaces the shared one for that engine only', (t) => {
  const dir = dirWith(t, {
    '0001_init.up.sql': 'shared up',
    '0001_init.down.sql': 'shared down',
    '0002_json.up.sql': 'shared up 2',
    '0002_json.pg.up.sql': 'pg up 2',
    '0002_json.down.sql': 'shared down 2',
    '0002_json.sqlite.down.sql': 'sqlite down 2',
    'README.md': 'ignored',
  });
  assert.deepEqual(loadMigrations('postgres', dir), [
    { version: 1, name: 'init', up: 'shared up', down: 'shared down' },
    { version: 2, name: 'json', up: 'pg up 2', down: 'shared down 2' },
  ]);
  assert.deepEqual(loadMigrations('sqlite', dir), [
    { version: 1, name: 'init', up: 'shared up', down: 'shared down' },
    { version: 2, name: 'json', up: 'shared up 2', down: 'sqlite down 2' },
  ]);
});

test('a version without a script for one engine fails on every engine, naming the file to add', (t) => {
  const dir = dirWith(t, {
    '0001_init.pg.up.sql': 'pg only',
    '0001_init.down.sql': 'down',
  });
  for (const engine of ['sqlite', 'postgres'] as const) {
    assert.throws(() => loadMigrations(engine, dir), /0001_init has no up script for sqlite/);
  }
});

test('two names for one version are refused', (t) => {
  const dir = dirWith(t, {
    '0001_init.up.sql': 'a',
    '0001_init.down.sql': 'a',
    '0001_other.up.sql': 'b',
  });
  assert.throws(() => loadMigrations('sqlite', dir), /migration 1 has two names/);
});
