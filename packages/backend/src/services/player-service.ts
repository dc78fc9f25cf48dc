import { AppError } from '@plexus/kit';
import {
  PLAYER_DATA_MAX_BYTES,
  type PlayerRecord,
  type PlayerSave,
  type PlayersJoinParams,
  type PlayersJoinResult,
  type PlayersLeaveParams,
  type PlayersSaveParams,
  type PlayersSaveResult,
} from '@plexus/protocol';
import type { SqlDb } from '../storage/sql-db.ts';
import { takeInboxEvents } from '../stores/event-inbox-store.ts';
import { getPlayerRecord, upsertPlayerRecord } from '../stores/player-store.ts';
import { removePresence, touchPresence } from '../stores/presence-store.ts';

export interface PlayerServiceOptions {
  db: SqlDb;
  clock: () => number;
}

/** Transactions that read or write a user's presence and inbox together share this lock key. */
export const userLockKey = (userId: string) => `user:${userId}`;

/**
 * Player data and presence. A join records presence, returns the saved record and takes the user's
 * stored events in one transaction (they are deleted as they are returned: at-most-once); saves
 * refresh presence; a leave saves a last time and ends presence.
 */
export class PlayerService {
  readonly #o: PlayerServiceOptions;

  constructor(options: PlayerServiceOptions) {
    this.#o = options;
  }

  /** The saved record, read only (operators' diagnostics): no presence, no inbox taken. */
  get(userId: string, playgroundId: string): Promise<PlayerRecord | null> {
    return getPlayerRecord(this.#o.db, userId, playgroundId);
  }

  join({ serverId, userId, playgroundId }: PlayersJoinParams): Promise<PlayersJoinResult> {
    const now = this.#o.clock();
    return this.#o.db.transaction(
      async (tx) => {
        await touchPresence(tx, userId, playgroundId, serverId, now);
        const record = await getPlayerRecord(tx, userId, playgroundId);
        const inbox = await takeInboxEvents(tx, userId, now);
        return { record, inbox };
      },
      { lockKey: userLockKey(userId) },
    );
  }

  async save({ serverId, playgroundId, players }: PlayersSaveParams): Promise<PlayersSaveResult> {
    for (const player of players) checkDataSize(player);
    const now = this.#o.clock();
    await this.#o.db.transaction(async (tx) => {
      for (const player of players) {
        await upsertPlayerRecord(tx, playgroundId, player, now);
        await touchPresence(tx, player.userId, playgroundId, serverId, now);
      }
    });
    return { saved: players.length };
  }

  async leave(params: PlayersLeaveParams): Promise<PlayersSaveResult> {
    const { serverId, playgroundId, userId } = params;
    checkDataSize(params);
    const now = this.#o.clock();
    await this.#o.db.transaction(async (tx) => {
      await upsertPlayerRecord(tx, playgroundId, params, now);
      await removePresence(tx, userId, playgroundId, serverId);
    });
    return { saved: 1 };
  }
}

function checkDataSize(player: PlayerSave): void {
  if (player.data === undefined) return;
  const bytes = Buffer.byteLength(JSON.stringify(player.data), 'utf8');
  if (bytes > PLAYER_DATA_MAX_BYTES) {
    throw new AppError(
      'PLAYER_DATA_TOO_LARGE',
      `The data of user ${player.userId} is ${bytes} bytes of JSON; the limit is ${PLAYER_DATA_MAX_BYTES}`,
    );
  }
}
