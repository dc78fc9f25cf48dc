import type { DatabaseSync } from 'node:sqlite';
import type { Migration } from '../migrations.ts';
import { immediate } from './transaction.ts';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

function appliedVersions(db: DatabaseSync): Set<number> {
  const rows = db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
  return new Set(rows.map((r) => r.version));
}

/**
 * Applies every pending migration in version order inside one write transaction, so a failure
 * leaves the schema as it was and two processes starting together do not both migrate.
 */
export function migrateUp(db: DatabaseSync, migrations: Migration[], now: number): number[] {
  db.exec(CREATE_TABLE);
  return immediate(db, () => {
    const applied = appliedVersions(db);
    const done: number[] = [];
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      db.exec(m.up);
      record.run(m.version, m.name, now);
      done.push(m.version);
    }
    return done;
  });
}

/** Reverts applied migrations with a version above `targetVersion`, newest first, in one transaction. */
export function migrateDown(db: DatabaseSync, migrations: Migration[], targetVersion: number): number[] {
  db.exec(CREATE_TABLE);
  return immediate(db, () => {
    const applied = appliedVersions(db);
    const done: number[] = [];
    const forget = db.prepare('DELETE FROM schema_migrations WHERE version = ?');
    for (const m of [...migrations].reverse()) {
      if (m.version <= targetVersion || !applied.has(m.version)) continue;
      db.exec(m.down);
      forget.run(m.version);
      done.push(m.version);
    }
    return done;
  });
}

/** True when every known migration is applied. */
export function isUpToDate(db: DatabaseSync, migrations: Migration[]): boolean {
  db.exec(CREATE_TABLE);
  const applied = appliedVersions(db);
  return migrations.every((m) => applied.has(m.version));
}
