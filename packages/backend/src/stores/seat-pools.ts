import { placeholders, type SqlExecutor, type SqlValue } from '../storage/sql-db.ts';
import { type CatalogueRecord, catalogueLockKey } from './catalogue-store.ts';
import {
  chooseInstance,
  type HeldSeat,
  instanceId,
  keepsOwnSeat,
  type PartyAnchor,
  parseInstanceId,
  partyAnchor,
  type Room,
  type RoomRequest,
  type Seat,
  seatOutcome,
} from './seat-policy.ts';

/**
 * The SQL side of matchmaking seats; what to decide on the rows read here is seat-policy.ts.
 * Seats are matchmaking reservations: a user holds at most one per pool (a catalogue playground, or
 * the auto-opened public playgrounds of one type), counted while younger than the seat TTL. Every
 * method here runs inside a transaction holding the pool's `lockKey`, so a read-then-write decision
 * never interleaves with another one on the same pool and an instance is never overfilled.
 */
export interface SeatPool {
  readonly lockKey: string;
  /** Deletes the pool's seats assigned at or before `freshAfter` (they no longer count). */
  prune(tx: SqlExecutor, freshAfter: number): Promise<void>;
  /** The seats these users hold in the pool (call after `prune`: every remaining seat is fresh). */
  seatsOf(tx: SqlExecutor, userIds: readonly string[]): Promise<Map<string, HeldSeat>>;
  /**
   * An instance with room for `count` more users, not counting seats held by `exclude`: `prefer`
   * when it has room, else (unless `strict`) the first with room; undefined when none has.
   */
  findRoom(tx: SqlExecutor, request: RoomRequest): Promise<Room | undefined>;
  /** Gives these users a seat in `playgroundId` (moving any seat they held in the pool). */
  assign(
    tx: SqlExecutor,
    userIds: readonly string[],
    playgroundId: string,
    partyId: string | null,
    now: number,
  ): Promise<void>;
  /** Renews a held seat's age. */
  refresh(tx: SqlExecutor, userId: string, now: number): Promise<void>;
}

/** `NOT IN (?, …)` over user ids, or nothing for an empty list. */
function notIn(column: string, ids: readonly string[]): string {
  return ids.length === 0 ? '' : ` AND ${column} NOT IN (${placeholders(ids)})`;
}

/**
 * What both pools share: each keeps its seats in one table, where `keyColumn = key` marks the pool's
 * rows and `placeColumn` says which of its playgrounds a seat is in.
 */
abstract class TableSeatPool {
  readonly lockKey: string;
  readonly #table: string;
  readonly #keyColumn: string;
  readonly #key: string;
  readonly #placeColumn: string;

  constructor(
    seats: { table: string; keyColumn: string; key: string; placeColumn: string },
    lockKey: string,
  ) {
    this.#table = seats.table;
    this.#keyColumn = seats.keyColumn;
    this.#key = seats.key;
    this.#placeColumn = seats.placeColumn;
    this.lockKey = lockKey;
  }

  /** The playground id of a seat row's `placeColumn` value. */
  protected abstract playgroundAt(place: string | number): string;

  async prune(tx: SqlExecutor, freshAfter: number): Promise<void> {
    await tx.run(`DELETE FROM ${this.#table} WHERE ${this.#keyColumn} = ? AND assigned_at <= ?`, [
      this.#key,
      freshAfter,
    ]);
  }

  async seatsOf(tx: SqlExecutor, userIds: readonly string[]): Promise<Map<string, HeldSeat>> {
    if (userIds.length === 0) return new Map();
    const rows = await tx.all<{ user_id: string; place: string | number; party_id: string | null }>(
      `SELECT user_id, ${this.#placeColumn} AS place, party_id FROM ${this.#table}
        WHERE ${this.#keyColumn} = ? AND user_id IN (${placeholders(userIds)})`,
      [this.#key, ...userIds],
    );
    return new Map(
      rows.map((r) => [r.user_id, { playgroundId: this.playgroundAt(r.place), partyId: r.party_id }]),
    );
  }

  async refresh(tx: SqlExecutor, userId: string, now: number): Promise<void> {
    await tx.run(`UPDATE ${this.#table} SET assigned_at = ? WHERE user_id = ? AND ${this.#keyColumn} = ?`, [
      now,
      userId,
      this.#key,
    ]);
  }
}

/** The instances of one catalogue playground. */
export class CataloguePool extends TableSeatPool implements SeatPool {
  readonly #playground: CatalogueRecord;

  constructor(playground: CatalogueRecord) {
    super(
      { table: 'catalogue_seats', keyColumn: 'playground_id', key: playground.id, placeColumn: 'instance' },
      catalogueLockKey(playground.id),
    );
    this.#playground = playground;
  }

  protected playgroundAt(instance: string | number): string {
    return instanceId(this.#playground.id, Number(instance));
  }

  async findRoom(tx: SqlExecutor, request: RoomRequest): Promise<Room | undefined> {
    const rows = await tx.all<{ instance: number; seated: number }>(
      `SELECT instance, COUNT(*) AS seated FROM catalogue_seats
        WHERE playground_id = ?${notIn('user_id', request.exclude)}
        GROUP BY instance`,
      [this.#playground.id, ...request.exclude],
    );
    const seated = new Map(rows.map((r) => [Number(r.instance), Number(r.seated)]));
    return chooseInstance(this.#playground, seated, request);
  }

  async assign(
    tx: SqlExecutor,
    userIds: readonly string[],
    playgroundId: string,
    partyId: string | null,
    now: number,
  ): Promise<void> {
    const { instance } = parseInstanceId(playgroundId);
    for (const userId of userIds) {
      await tx.run(
        `INSERT INTO catalogue_seats (user_id, playground_id, instance, party_id, assigned_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, playground_id)
         DO UPDATE SET instance = excluded.instance, party_id = excluded.party_id, assigned_at = excluded.assigned_at`,
        [userId, this.#playground.id, instance, partyId, now],
      );
    }
  }
}

/**
 * Auto-opened public playgrounds of one type, `public-<type>-<seq>`, unlimited in number: the
 * behaviour from before the catalogue, kept for requests no catalogue playground matches.
 */
export class AutoPool extends TableSeatPool implements SeatPool {
  readonly #type: string;
  /** Capacity of a playground opened by this pool (existing ones keep theirs). */
  readonly #capacity: number;
  readonly #now: number;

  constructor(type: string, capacity: number, now: number) {
    super(
      { table: 'playground_seats', keyColumn: 'playground_type', key: type, placeColumn: 'playground_id' },
      `playground_seats:${type}`,
    );
    this.#type = type;
    this.#capacity = capacity;
    this.#now = now;
  }

  protected playgroundAt(playgroundId: string | number): string {
    return String(playgroundId);
  }

  async findRoom(tx: SqlExecutor, request: RoomRequest): Promise<Room | undefined> {
    const exclude = notIn('s.user_id', request.exclude);
    const roomSql = (extra: string) =>
      `SELECT p.id AS id, COUNT(s.user_id) AS seated FROM playgrounds p
         LEFT JOIN playground_seats s ON s.playground_id = p.id${exclude}
        WHERE p.type = ?${extra}
        GROUP BY p.id, p.seq, p.capacity
       HAVING COUNT(s.user_id) + ? <= p.capacity
        ORDER BY p.seq
        LIMIT 1`;
    const toRoom = (row: { id: string; seated: number } | undefined) =>
      row && { playgroundId: row.id, seated: Number(row.seated) };
    if (request.prefer !== undefined) {
      const preferred = toRoom(
        await tx.get<{ id: string; seated: number }>(roomSql(' AND p.id = ?'), [
          ...request.exclude,
          this.#type,
          request.prefer,
          request.count,
        ]),
      );
      if (preferred || request.strict) return preferred;
    }
    const open = toRoom(
      await tx.get<{ id: string; seated: number }>(roomSql(''), [
        ...request.exclude,
        this.#type,
        request.count,
      ]),
    );
    if (open) return open;
    if (request.count > this.#capacity) return undefined;
    const next = await tx.get<{ next: number }>(
      'SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM playgrounds WHERE type = ?',
      [this.#type],
    );
    const seq = Number(next?.next ?? 1);
    const playgroundId = `public-${this.#type}-${seq}`;
    await tx.run('INSERT INTO playgrounds (id, type, seq, capacity, created_at) VALUES (?, ?, ?, ?, ?)', [
      playgroundId,
      this.#type,
      seq,
      this.#capacity,
      this.#now,
    ]);
    return { playgroundId, seated: 0 };
  }

  async assign(
    tx: SqlExecutor,
    userIds: readonly string[],
    playgroundId: string,
    partyId: string | null,
    now: number,
  ): Promise<void> {
    for (const userId of userIds) {
      await tx.run(
        `INSERT INTO playground_seats (user_id, playground_type, playground_id, party_id, assigned_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, playground_type)
         DO UPDATE SET playground_id = excluded.playground_id, party_id = excluded.party_id,
                       assigned_at = excluded.assigned_at`,
        [userId, this.#type, playgroundId, partyId, now],
      );
    }
  }
}

/**
 * One user's seat in a pool: their own seat when they hold one (and it is the `prefer`red instance,
 * if any), else a seat in `prefer` when it has room, else (unless `strict`) the first instance with
 * room. Undefined when no instance has room.
 */
export async function seatUser(
  tx: SqlExecutor,
  pool: SeatPool,
  request: {
    userId: string;
    now: number;
    freshAfter: number;
    prefer?: string | undefined;
    strict?: boolean | undefined;
    partyId?: string | null | undefined;
  },
): Promise<Seat | undefined> {
  const { userId, now } = request;
  await pool.prune(tx, request.freshAfter);
  const own = (await pool.seatsOf(tx, [userId])).get(userId);
  if (keepsOwnSeat(own, request.prefer)) {
    await pool.refresh(tx, userId, now);
    return { playgroundId: own.playgroundId, outcome: 'kept' };
  }
  const room = await pool.findRoom(tx, {
    count: 1,
    exclude: [userId],
    prefer: request.prefer,
    strict: request.strict,
  });
  if (!room) return undefined;
  await pool.assign(tx, [userId], room.playgroundId, request.partyId ?? null, now);
  return { playgroundId: room.playgroundId, outcome: seatOutcome(own, room) };
}

/** Seats every member in one instance with room for all of them, or nobody (undefined). */
export async function seatGroup(
  tx: SqlExecutor,
  pool: SeatPool,
  request: { userIds: readonly string[]; partyId: string; now: number; freshAfter: number },
): Promise<Room | undefined> {
  await pool.prune(tx, request.freshAfter);
  const room = await pool.findRoom(tx, { count: request.userIds.length, exclude: request.userIds });
  if (!room) return undefined;
  await pool.assign(tx, request.userIds, room.playgroundId, request.partyId, request.now);
  return room;
}

/** Where a party sits: the instance most of its fresh party seats are in (seat-policy.ts). */
export async function findPartyAnchor(
  ex: SqlExecutor,
  partyId: string,
  freshAfter: number,
  userId?: string,
): Promise<PartyAnchor | undefined> {
  const userClause = userId === undefined ? '' : ' AND user_id = ?';
  const userValue: SqlValue[] = userId === undefined ? [] : [userId];
  const catalogue = await ex.get<{ playground_id: string; instance: number; n: number }>(
    `SELECT playground_id, instance, COUNT(*) AS n FROM catalogue_seats
      WHERE party_id = ? AND assigned_at > ?${userClause}
      GROUP BY playground_id, instance
      ORDER BY COUNT(*) DESC, playground_id, instance
      LIMIT 1`,
    [partyId, freshAfter, ...userValue],
  );
  const auto = await ex.get<{ playground_type: string; playground_id: string; n: number }>(
    `SELECT playground_type, playground_id, COUNT(*) AS n FROM playground_seats
      WHERE party_id = ? AND assigned_at > ?${userClause}
      GROUP BY playground_type, playground_id
      ORDER BY COUNT(*) DESC, playground_id
      LIMIT 1`,
    [partyId, freshAfter, ...userValue],
  );
  return partyAnchor(
    catalogue && {
      catalogueId: catalogue.playground_id,
      instance: Number(catalogue.instance),
      seats: Number(catalogue.n),
    },
    auto && { type: auto.playground_type, playgroundId: auto.playground_id, seats: Number(auto.n) },
  );
}

/** Fresh seats per catalogue playground (its population across instances). */
export async function cataloguePopulations(
  ex: SqlExecutor,
  ids: readonly string[],
  freshAfter: number,
): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await ex.all<{ playground_id: string; n: number }>(
    `SELECT playground_id, COUNT(*) AS n FROM catalogue_seats
      WHERE assigned_at > ? AND playground_id IN (${placeholders(ids)})
      GROUP BY playground_id`,
    [freshAfter, ...ids],
  );
  return new Map(rows.map((r) => [r.playground_id, Number(r.n)]));
}

/** Catalogue playgrounds (among `ids`) where the user holds a fresh seat. */
export async function catalogueSeatsOfUser(
  ex: SqlExecutor,
  userId: string,
  ids: readonly string[],
  freshAfter: number,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await ex.all<{ playground_id: string }>(
    `SELECT playground_id FROM catalogue_seats
      WHERE user_id = ? AND assigned_at > ? AND playground_id IN (${placeholders(ids)})`,
    [userId, freshAfter, ...ids],
  );
  return new Set(rows.map((r) => r.playground_id));
}

/** Drops the party mark from a former member's seats (they no longer sit "with" the party). */
export async function forgetPartySeats(ex: SqlExecutor, userId: string, partyId: string): Promise<void> {
  await ex.run('UPDATE catalogue_seats SET party_id = NULL WHERE user_id = ? AND party_id = ?', [
    userId,
    partyId,
  ]);
  await ex.run('UPDATE playground_seats SET party_id = NULL WHERE user_id = ? AND party_id = ?', [
    userId,
    partyId,
  ]);
}
