import type { PlayerRecord, PlayerSave, Quat, Vec3 } from '@plexus/protocol';
import type { SqlExecutor } from '../storage/sql-db.ts';

interface PlayerRow {
  user_id: string;
  playground_id: string;
  position: string | null;
  rotation: string | null;
  data: string | null;
  updated_at: number | string;
}

/** The user's record in the playground, or null when none was ever saved. */
export async function getPlayerRecord(
  x: SqlExecutor,
  userId: string,
  playgroundId: string,
): Promise<PlayerRecord | null> {
  const row = await x.get<PlayerRow>(
    `SELECT user_id, playground_id, position, rotation, data, updated_at
       FROM player_records WHERE user_id = ? AND playground_id = ?`,
    [userId, playgroundId],
  );
  if (!row) return null;
  return {
    userId: row.user_id,
    playgroundId: row.playground_id,
    position: row.position === null ? null : (JSON.parse(row.position) as Vec3),
    rotation: row.rotation === null ? null : (JSON.parse(row.rotation) as Quat),
    data: row.data === null ? {} : (JSON.parse(row.data) as Record<string, unknown>),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * Creates or updates the user's record. Fields the save leaves out keep their stored value;
 * `data`, when given, replaces the stored object whole.
 */
export async function upsertPlayerRecord(
  x: SqlExecutor,
  playgroundId: string,
  save: PlayerSave,
  now: number,
): Promise<void> {
  await x.run(
    `INSERT INTO player_records (user_id, playground_id, position, rotation, data, updated_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (user_id, playground_id) DO UPDATE SET
       position = COALESCE(excluded.position, player_records.position),
       rotation = COALESCE(excluded.rotation, player_records.rotation),
       data = COALESCE(excluded.data, player_records.data),
       updated_at = excluded.updated_at`,
    [
      save.userId,
      playgroundId,
      save.position === undefined ? null : JSON.stringify(save.position),
      save.rotation === undefined ? null : JSON.stringify(save.rotation),
      save.data === undefined ? null : JSON.stringify(save.data),
      now,
    ],
  );
}
