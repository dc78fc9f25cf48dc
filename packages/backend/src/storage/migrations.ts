import { readdirSync, readFileSync } from 'node:fs';

/** One versioned migration: `NNNN_<name>.up.sql` and its `NNNN_<name>.down.sql`. */
export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/;

/**
 * Reads the migrations shipped next to this module, sorted by version. Every version must have
 * both an up and a down file, and versions must be unique.
 */
export function loadMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  const byVersion = new Map<number, { name: string; up?: string; down?: string }>();
  for (const file of readdirSync(dir)) {
    const match = FILE_PATTERN.exec(file);
    if (!match) continue;
    const [, versionText, name, direction] = match as unknown as [string, string, string, 'up' | 'down'];
    const version = Number(versionText);
    const entry = byVersion.get(version) ?? { name };
    if (entry.name !== name) throw new Error(`migration ${version} has two names: ${entry.name}, ${name}`);
    entry[direction] = readFileSync(new URL(file, dir), 'utf8');
    byVersion.set(version, entry);
  }
  return [...byVersion.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, { name, up, down }]) => {
      if (up === undefined || down === undefined) {
        throw new Error(`migration ${version}_${name} needs both .up.sql and .down.sql`);
      }
      return { version, name, up, down };
    });
}
