import type { PartyMember } from '@plexus/protocol';
import type { SqlDb, SqlExecutor } from '../storage/sql-db.ts';
import { forgetPartySeats } from './seat-pools.ts';

/** A member as stored; `incognito` decides what the other members see (party-service.ts). */
export interface PartyMemberRecord extends PartyMember {
  userId: string;
  incognito: boolean;
}

export interface PartyRecord {
  id: string;
  code: string;
  leaderId: string;
  createdAt: number;
  /** In joining order. */
  members: PartyMemberRecord[];
}

interface PartyRow {
  id: string;
  code: string;
  leader_id: string;
  created_at: number;
}

interface MemberRow {
  user_id: string;
  joined_at: number;
  first_name: string;
  last_name: string;
  privacy_mode: number;
}

/** Every membership change takes this lock, so a party never grows past its size. */
const MEMBERSHIP_LOCK = 'parties:membership';

/** Outcome of a join: the party, or why not. */
export type JoinOutcome = { party: PartyRecord } | { refused: 'not-found' | 'full' };

/** Parties: a user is in at most one; an empty party is deleted; the leader passes to the oldest member. */
export class PartyStore {
  readonly #db: SqlDb;

  constructor(db: SqlDb) {
    this.#db = db;
  }

  /** Creates a party led by `userId` (who leaves any party they were in); false when `code` is taken. */
  async create(party: { id: string; code: string; userId: string; now: number }): Promise<boolean> {
    return this.#db.transaction(
      async (tx) => {
        const { changes } = await tx.run(
          `INSERT INTO parties (id, code, leader_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (code) DO NOTHING`,
          [party.id, party.code, party.userId, party.now, party.now],
        );
        if (changes === 0) return false;
        await this.#leave(tx, party.userId, party.now);
        await tx.run('INSERT INTO party_members (user_id, party_id, joined_at) VALUES (?, ?, ?)', [
          party.userId,
          party.id,
          party.now,
        ]);
        return true;
      },
      { lockKey: MEMBERSHIP_LOCK },
    );
  }

  /** Adds `userId` to the party with this code (leaving any other party first). */
  async join(code: string, userId: string, maxSize: number, now: number): Promise<JoinOutcome> {
    return this.#db.transaction(
      async (tx): Promise<JoinOutcome> => {
        const row = await tx.get<PartyRow>('SELECT * FROM parties WHERE code = ?', [code]);
        if (!row) return { refused: 'not-found' };
        const current = await tx.get<{ party_id: string }>(
          'SELECT party_id FROM party_members WHERE user_id = ?',
          [userId],
        );
        if (current?.party_id !== row.id) {
          const size = await tx.get<{ n: number }>(
            'SELECT COUNT(*) AS n FROM party_members WHERE party_id = ?',
            [row.id],
          );
          if (Number(size?.n ?? 0) >= maxSize) return { refused: 'full' };
          await this.#leave(tx, userId, now);
          await tx.run('INSERT INTO party_members (user_id, party_id, joined_at) VALUES (?, ?, ?)', [
            userId,
            row.id,
            now,
          ]);
          await tx.run('UPDATE parties SET updated_at = ? WHERE id = ?', [now, row.id]);
        }
        return { party: await this.#record(tx, row) };
      },
      { lockKey: MEMBERSHIP_LOCK },
    );
  }

  /** Removes `userId` from their party; false when they were in none. */
  async leave(userId: string, now: number): Promise<boolean> {
    return this.#db.transaction((tx) => this.#leave(tx, userId, now), { lockKey: MEMBERSHIP_LOCK });
  }

  /** The party `userId` belongs to. */
  async ofUser(userId: string): Promise<PartyRecord | undefined> {
    const row = await this.#db.get<PartyRow>(
      'SELECT p.* FROM parties p JOIN party_members m ON m.party_id = p.id WHERE m.user_id = ?',
      [userId],
    );
    return row && this.#record(this.#db, row);
  }

  /** Member ids of a party, in joining order; undefined when there is no such party. */
  async memberIds(ex: SqlExecutor, partyId: string): Promise<string[] | undefined> {
    const party = await ex.get<{ id: string }>('SELECT id FROM parties WHERE id = ?', [partyId]);
    if (!party) return undefined;
    const rows = await ex.all<{ user_id: string }>(
      'SELECT user_id FROM party_members WHERE party_id = ? ORDER BY joined_at, user_id',
      [partyId],
    );
    return rows.map((r) => r.user_id);
  }

  /**
   * Row-locks the party for the rest of the transaction (PostgreSQL; SQLite transactions are serial),
   * so two members seating their party at once take turns. False when the party does not exist.
   */
  async lock(tx: SqlExecutor, partyId: string, now: number): Promise<boolean> {
    const { changes } = await tx.run('UPDATE parties SET updated_at = ? WHERE id = ?', [now, partyId]);
    return changes > 0;
  }

  async #leave(tx: SqlExecutor, userId: string, now: number): Promise<boolean> {
    const member = await tx.get<{ party_id: string }>(
      'SELECT party_id FROM party_members WHERE user_id = ?',
      [userId],
    );
    if (!member) return false;
    const partyId = member.party_id;
    // The party row first, as seating does (then seats): the same lock order everywhere, no deadlock.
    await this.lock(tx, partyId, now);
    await tx.run('DELETE FROM party_members WHERE user_id = ?', [userId]);
    await forgetPartySeats(tx, userId, partyId);
    const next = await tx.get<{ user_id: string }>(
      'SELECT user_id FROM party_members WHERE party_id = ? ORDER BY joined_at, user_id LIMIT 1',
      [partyId],
    );
    if (!next) {
      await tx.run('DELETE FROM parties WHERE id = ?', [partyId]);
    } else {
      // Leadership passes to the longest-standing member when the leader leaves.
      await tx.run(
        `UPDATE parties SET updated_at = ?,
           leader_id = CASE WHEN leader_id = ? THEN ? ELSE leader_id END
         WHERE id = ?`,
        [now, userId, next.user_id, partyId],
      );
    }
    return true;
  }

  async #record(ex: SqlExecutor, row: PartyRow): Promise<PartyRecord> {
    const members = await ex.all<MemberRow>(
      `SELECT m.user_id, m.joined_at, u.first_name, u.last_name, u.privacy_mode
         FROM party_members m JOIN users u ON u.id = m.user_id
        WHERE m.party_id = ?
        ORDER BY m.joined_at, m.user_id`,
      [row.id],
    );
    return {
      id: row.id,
      code: row.code,
      leaderId: row.leader_id,
      createdAt: Number(row.created_at),
      members: members.map((m) => {
        // Incognito users show no name, as on the dedicated servers.
        const incognito = Number(m.privacy_mode) !== 0;
        return {
          userId: m.user_id,
          displayName: incognito ? 'Anonymous' : `${m.first_name} ${m.last_name}`.trim(),
          joinedAt: Number(m.joined_at),
          incognito,
        };
      }),
    };
  }
}
