import { readdirSync, readFileSync } from 'node:fs';
import type { SqlDb } from './sql-db.ts';

export type SqlEngine = SqlDb['engine'];

/** One versioned migration as the given engine runs it. */
export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
/**
 * `NNNN_<name>.up.sql` / `.down.sql` serve both engines; `NNNN_<name>.pg.up.sql` or
 * `.sqlite.up.sql` (and `.down.sql`) replace the shared file for one engine where dialects differ.
 */
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)(?:\.(pg|sqlite))?\.(up|down)\.sql$/;
const ENGINE_SUFFIX = { postgres: 'pg', sqlite: 'sqlite' } as const satisfies Record<SqlEngine, string>;

type Direction = 'up' | 'down';
/** Files of one version, keyed `<variant>.<direction>` with variant `shared`, `pg` or `sqlite`. */
type VersionFiles = { name: string; files: Map<string, string> };

/**
 * Reads the migrations shipped next to this module for `engine`, sorted by version. Every version
 * must resolve an up and a down script for both engines (from the shared file or an override), and
 * versions must be unique.
 */
export function loadMigrations(engine: SqlEngine, dir: URL = MIGRATIONS_DIR): Migration[] {
  const byVersion = new Map<number, VersionFiles>();
  for (const file of readdirSync(dir)) {
    const match = FILE_PATTERN.exec(file);
    if (!match) continue;
    const [, versionText, name, variant = 'shared', direction] = match as unknown as [
      string,
      string,
      string,
      string | undefined,
      Direction,
    ];
    const version = Number(versionText);
    const entry = byVersion.get(version) ?? { name, files: new Map<string, string>() };
    if (entry.name !== name) throw new Error(`migration ${version} has two names: ${entry.name}, ${name}`);
    entry.files.set(`${variant}.${direction}`, readFileSync(new URL(file, dir), 'utf8'));
    byVersion.set(version, entry);
  }
  const script = (version: number, entry: VersionFiles, forEngine: SqlEngine, direction: Direction) => {
    const text =
      entry.files.get(`${ENGINE_SUFFIX[forEngine]}.${direction}`) ?? entry.files.get(`shared.${direction}`);
    if (text === undefined) {
      const base = `${String(version).padStart(4, '0')}_${entry.name}`;
      throw new Error(
        `migration ${base} has no ${direction} script for ${forEngine}: add ${base}.${direction}.sql ` +
          `or ${base}.${ENGINE_SUFFIX[forEngine]}.${direction}.sql`,
      );
    }
    return text;
  };
  return [...byVersion.entries()]
    .sort(([a], [b]) => a - b)
    .map(([version, entry]) => {
      // Check the other engine too, so a missing override fails on every machine, not only in CI.
      for (const other of Object.keys(ENGINE_SUFFIX) as SqlEngine[]) {
        script(version, entry, other, 'up');
        script(version, entry, other, 'down');
      }
      return {
        version,
        name: entry.name,
        up: script(version, entry, engine, 'up'),
        down: script(version, entry, engine, 'down'),
      };
    });
}
