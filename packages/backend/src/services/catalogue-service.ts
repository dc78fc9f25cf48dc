import { AppError } from '@plexus/kit';
import type { CataloguePlayground, PlaygroundListing, PlaygroundVisibility } from '@plexus/protocol';
import type { SqlDb } from '../storage/sql-db.ts';
import type {
  CatalogueFilter,
  CataloguePatch,
  CatalogueRecord,
  CatalogueStore,
  NewCatalogueRecord,
} from '../stores/catalogue-store.ts';
import { cataloguePopulations } from '../stores/seat-pools.ts';
import { INVITE_CODE_LENGTH, randomCode } from './codes.ts';

export interface CatalogueServiceOptions {
  db: SqlDb;
  catalogue: CatalogueStore;
  clock: () => number;
  /** Seats younger than this make up a playground's population. */
  seatTtlMs: number;
}

export type CatalogueInput = Omit<NewCatalogueRecord, 'inviteCode' | 'createdAt'>;

export type CatalogueUpdate = Omit<CataloguePatch, 'inviteCode'> & {
  /** Replaces a private playground's invite code (the old one stops working). */
  rotateInviteCode?: boolean | undefined;
};

export interface ListQuery extends Omit<CatalogueFilter, 'afterId' | 'order'> {
  cursor?: string | undefined;
}

export interface Page<T> {
  playgrounds: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** The playground catalogue: operators manage it, users browse its open public playgrounds. */
export class CatalogueService {
  readonly #o: CatalogueServiceOptions;

  constructor(options: CatalogueServiceOptions) {
    this.#o = options;
  }

  async create(input: CatalogueInput): Promise<CataloguePlayground> {
    const record: NewCatalogueRecord = {
      ...input,
      inviteCode: inviteCodeFor(input.visibility),
      createdAt: this.#o.clock(),
    };
    if (!(await this.#o.catalogue.create(record))) {
      throw new AppError('MATCH_PLAYGROUND_EXISTS', `A playground with id ${input.id} already exists`);
    }
    return this.#view(await this.#require(input.id));
  }

  async get(id: string): Promise<CataloguePlayground> {
    return this.#view(await this.#require(id));
  }

  async list(query: ListQuery): Promise<Page<CataloguePlayground>> {
    const records = await this.#page({ ...query, order: 'id' });
    const populations = await this.#populations(records.map((r) => r.id));
    return {
      playgrounds: records.map((r) => toView(r, populations.get(r.id) ?? 0)),
      nextCursor: nextCursor(records, query.limit),
    };
  }

  async update(id: string, update: CatalogueUpdate): Promise<CataloguePlayground> {
    const current = await this.#require(id);
    const { rotateInviteCode, ...patch } = update;
    const visibility = patch.visibility ?? current.visibility;
    if (rotateInviteCode && visibility === 'public') {
      throw new AppError(
        'COMMON_BAD_REQUEST',
        'Invalid request: rotateInviteCode: a public playground has no invite code',
      );
    }
    const inviteCode =
      visibility === 'public'
        ? null
        : rotateInviteCode || current.inviteCode === null
          ? randomCode(INVITE_CODE_LENGTH)
          : undefined;
    const next: CataloguePatch = inviteCode === undefined ? patch : { ...patch, inviteCode };
    const updated = await this.#o.catalogue.update(id, next, this.#o.clock());
    if (!updated) throw notFound(id);
    return this.#view(updated);
  }

  /** Stops new joins; seats already held keep their instance until they expire. Idempotent. */
  async close(id: string): Promise<CataloguePlayground> {
    const closed = await this.#o.catalogue.close(id, this.#o.clock());
    if (!closed) throw notFound(id);
    return this.#view(closed);
  }

  /** Open public playgrounds, with their population. */
  async browse(query: Omit<ListQuery, 'visibility' | 'includeClosed'>): Promise<Page<PlaygroundListing>> {
    const records = await this.#page({ ...query, visibility: 'public', includeClosed: false, order: 'id' });
    const populations = await this.#populations(records.map((r) => r.id));
    return {
      playgrounds: records.map((r) => ({
        id: r.id,
        name: r.name,
        type: r.type,
        tags: r.tags,
        region: r.region,
        capacity: r.capacity,
        maxInstances: r.maxInstances,
        population: populations.get(r.id) ?? 0,
      })),
      nextCursor: nextCursor(records, query.limit),
    };
  }

  /** The private playground an invite code opens. */
  async resolveInvite(code: string): Promise<{ playgroundId: string }> {
    const record = await this.#o.catalogue.findByInviteCode(code);
    if (!record) throw new AppError('MATCH_INVITE_INVALID');
    if (record.closedAt !== null) throw new AppError('MATCH_PLAYGROUND_CLOSED');
    return { playgroundId: record.id };
  }

  #page(filter: ListQuery & { order: 'id' }): Promise<CatalogueRecord[]> {
    const { cursor, ...rest } = filter;
    return this.#o.catalogue.list({ ...rest, afterId: cursor });
  }

  #populations(ids: readonly string[]): Promise<Map<string, number>> {
    return cataloguePopulations(this.#o.db, ids, this.#o.clock() - this.#o.seatTtlMs);
  }

  async #require(id: string): Promise<CatalogueRecord> {
    const record = await this.#o.catalogue.get(id);
    if (!record) throw notFound(id);
    return record;
  }

  async #view(record: CatalogueRecord): Promise<CataloguePlayground> {
    const populations = await this.#populations([record.id]);
    return toView(record, populations.get(record.id) ?? 0);
  }
}

function inviteCodeFor(visibility: PlaygroundVisibility): string | null {
  return visibility === 'private' ? randomCode(INVITE_CODE_LENGTH) : null;
}

function notFound(id: string): AppError {
  return new AppError('MATCH_PLAYGROUND_NOT_FOUND', `No playground ${id} in the catalogue`);
}

function nextCursor(records: readonly CatalogueRecord[], limit: number): string | null {
  return records.length === limit ? (records.at(-1)?.id ?? null) : null;
}

function toView(r: CatalogueRecord, population: number): CataloguePlayground {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    capacity: r.capacity,
    visibility: r.visibility,
    tags: r.tags,
    region: r.region,
    maxInstances: r.maxInstances,
    inviteCode: r.inviteCode,
    closedAt: r.closedAt,
    population,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
