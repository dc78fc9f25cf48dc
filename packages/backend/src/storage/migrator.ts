import type { Migration } from './migrations.ts';
import type { SqlDb, SqlExecutor } from './sql-db.ts';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/**
 * Serialises migrators: on PostgreSQL two backends starting together would otherwise both see a
 * version as pending (and race even on CREATE TABLE IF NOT EXISTS); SQLite's write lock does the
 * same job there.
 */
const MIGRATION_LOCK = 'plexus:schema_migrations';

export interface MigrationOutcome {
  /** Versions applied (up) or reverted (down), in the order they ran. */
  versions: number[];
  /** True when every known migration is applied afterwards. */
  upToDate: boolean;
}

async function appliedVersions(tx: SqlExecutor): Promise<Set<number>> {
  await tx.exec(CREATE_TABLE);
  const rows = await tx.all<{ version: number }>('SELECT version FROM schema_migrations');
  return new Set(rows.map((r) => r.version));
}

/**
 * Applies every pending migration in version order inside one transaction, so a failure leaves the
 * schema as it was (both engines have transactional DDL).
 */
export function migrateUp(db: SqlDb, migrations: Migration[], now: number): Promise<MigrationOutcome> {
  return db.transaction(
    async (tx) => {
      const applied = await appliedVersions(tx);
      const versions: number[] = [];
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await tx.exec(m.up);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          now,
        ]);
        versions.push(m.version);
      }
      return { versions, upToDate: true };
    },
    { lockKey: MIGRATION_LOCK },
  );
}

/** Reverts applied migrations with a version above `targetVersion`, newest first, in one transaction. */
export function migrateDown(
  db: SqlDb,
  migrations: Migration[],
  targetVersion: number,
): Promise<MigrationOutcome> {
  return db.transaction(
    async (tx) => {
      const applied = await appliedVersions(tx);
      const versions: number[] = [];
      for (const m of [...migrations].reverse()) {
        if (m.version <= targetVersion || !applied.has(m.version)) continue;
        await tx.exec(m.down);
        await tx.run('DELETE FROM schema_migrations WHERE version = ?', [m.version]);
        applied.delete(m.version);
        versions.push(m.version);
      }
      return { versions, upToDate: migrations.every((m) => applied.has(m.version)) };
    },
    { lockKey: MIGRATION_LOCK },
  );
}
