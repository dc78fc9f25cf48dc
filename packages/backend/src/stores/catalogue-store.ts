import type { CataloguePlayground, PlaygroundVisibility } from '@plexus/protocol';
import type { SqlDb, SqlExecutor, SqlValue } from '../storage/sql-db.ts';

/** A catalogue playground as stored (population is the seat store's business). */
export type CatalogueRecord = Omit<CataloguePlayground, 'population'>;

export type NewCatalogueRecord = Omit<CatalogueRecord, 'closedAt' | 'updatedAt'>;

/** Fields to change; absent or undefined ones keep their value. */
export type CataloguePatch = {
  [K in 'name' | 'type' | 'capacity' | 'visibility' | 'tags' | 'region' | 'maxInstances' | 'inviteCode']?:
    | CatalogueRecord[K]
    | undefined;
};

export interface CatalogueFilter {
  type?: string | undefined;
  /** Every one of these tags. */
  tags?: readonly string[] | undefined;
  region?: string | undefined;
  visibility?: PlaygroundVisibility | undefined;
  includeClosed?: boolean | undefined;
  /** Keyset cursor: ids after this one. */
  afterId?: string | undefined;
  /** 'id' pages (operators, browse); 'age' ranks matchmaking candidates, oldest first. */
  order: 'id' | 'age';
  limit: number;
}

interface CatalogueRow {
  id: string;
  name: string;
  type: string;
  capacity: number;
  visibility: PlaygroundVisibility;
  tags: string;
  region: string;
  max_instances: number;
  invite_code: string | null;
  closed_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Serialises every write to one catalogue playground: edits, closing and seat assignment. */
export const catalogueLockKey = (id: string) => `catalogue:${id}`;

/** Column of each patchable field. */
const PATCH_COLUMNS = {
  name: 'name',
  type: 'type',
  capacity: 'capacity',
  visibility: 'visibility',
  tags: 'tags',
  region: 'region',
  maxInstances: 'max_instances',
  inviteCode: 'invite_code',
} as const satisfies Record<keyof CataloguePatch, string>;

/** Operator-defined playgrounds; tags are mirrored in `catalogue_tags` so filters stay in SQL. */
export class CatalogueStore {
  readonly #db: SqlDb;

  constructor(db: SqlDb) {
    this.#db = db;
  }

  /** Inserts the playground; false when the id is taken. */
  async create(record: NewCatalogueRecord): Promise<boolean> {
    return this.#db.transaction(
      async (tx) => {
        const { changes } = await tx.run(
          `INSERT INTO catalogue_playgrounds (id, name, type, capacity, visibility, tags, region, max_instances,
             invite_code, closed_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
          [
            record.id,
            record.name,
            record.type,
            record.capacity,
            record.visibility,
            JSON.stringify(record.tags),
            record.region,
            record.maxInstances,
            record.inviteCode,
            record.createdAt,
            record.createdAt,
          ],
        );
        if (changes === 0) return false;
        await writeTags(tx, record.id, record.tags);
        return true;
      },
      { lockKey: catalogueLockKey(record.id) },
    );
  }

  async get(id: string, ex: SqlExecutor = this.#db): Promise<CatalogueRecord | undefined> {
    const row = await ex.get<CatalogueRow>('SELECT * FROM catalogue_playgrounds WHERE id = ?', [id]);
    return row && toRecord(row);
  }

  async findByInviteCode(code: string): Promise<CatalogueRecord | undefined> {
    const row = await this.#db.get<CatalogueRow>(
      'SELECT * FROM catalogue_playgrounds WHERE invite_code = ?',
      [code],
    );
    return row && toRecord(row);
  }

  /** Applies the fields present in `patch`; undefined when there is no such playground. */
  async update(id: string, patch: CataloguePatch, now: number): Promise<CatalogueRecord | undefined> {
    return this.#db.transaction(
      async (tx) => {
        const sets = ['updated_at = ?'];
        const values: SqlValue[] = [now];
        for (const key of Object.keys(PATCH_COLUMNS) as (keyof CataloguePatch)[]) {
          const value = patch[key];
          if (value === undefined) continue;
          sets.push(`${PATCH_COLUMNS[key]} = ?`);
          values.push(Array.isArray(value) ? JSON.stringify(value) : value);
        }
        const { changes } = await tx.run(`UPDATE catalogue_playgrounds SET ${sets.join(', ')} WHERE id = ?`, [
          ...values,
          id,
        ]);
        if (changes === 0) return undefined;
        if (patch.tags) {
          await tx.run('DELETE FROM catalogue_tags WHERE playground_id = ?', [id]);
          await writeTags(tx, id, patch.tags);
        }
        return this.get(id, tx);
      },
      { lockKey: catalogueLockKey(id) },
    );
  }

  /** Closes the playground to new joins (the first close time is kept); undefined when unknown. */
  async close(id: string, now: number): Promise<CatalogueRecord | undefined> {
    return this.#db.transaction(
      async (tx) => {
        const { changes } = await tx.run(
          'UPDATE catalogue_playgrounds SET closed_at = COALESCE(closed_at, ?), updated_at = ? WHERE id = ?',
          [now, now, id],
        );
        return changes === 0 ? undefined : this.get(id, tx);
      },
      { lockKey: catalogueLockKey(id) },
    );
  }

  async list(filter: CatalogueFilter): Promise<CatalogueRecord[]> {
    const where: string[] = [];
    const values: SqlValue[] = [];
    if (filter.type !== undefined) {
      where.push('p.type = ?');
      values.push(filter.type);
    }
    if (filter.region !== undefined) {
      where.push('p.region = ?');
      values.push(filter.region);
    }
    if (filter.visibility !== undefined) {
      where.push('p.visibility = ?');
      values.push(filter.visibility);
    }
    if (!filter.includeClosed) where.push('p.closed_at IS NULL');
    for (const tag of filter.tags ?? []) {
      where.push('EXISTS (SELECT 1 FROM catalogue_tags t WHERE t.playground_id = p.id AND t.tag = ?)');
      values.push(tag);
    }
    if (filter.afterId !== undefined) {
      where.push('p.id > ?');
      values.push(filter.afterId);
    }
    const rows = await this.#db.all<CatalogueRow>(
      `SELECT p.* FROM catalogue_playgrounds p
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${filter.order === 'id' ? 'p.id' : 'p.created_at, p.id'}
        LIMIT ?`,
      [...values, filter.limit],
    );
    return rows.map(toRecord);
  }
}

async function writeTags(tx: SqlExecutor, id: string, tags: readonly string[]): Promise<void> {
  for (const tag of new Set(tags)) {
    await tx.run('INSERT INTO catalogue_tags (playground_id, tag) VALUES (?, ?)', [id, tag]);
  }
}

function toRecord(row: CatalogueRow): CatalogueRecord {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    capacity: Number(row.capacity),
    visibility: row.visibility,
    tags: JSON.parse(row.tags) as string[],
    region: row.region,
    maxInstances: Number(row.max_instances),
    inviteCode: row.invite_code,
    closedAt: row.closed_at === null ? null : Number(row.closed_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
