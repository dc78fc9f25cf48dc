import type { SqlExecutor } from '../storage/sql-db.ts';

/** Records that the user is in the playground on the server, now. */
export async function touchPresence(
  x: SqlExecutor,
  userId: string,
  playgroundId: string,
  serverId: string,
  now: number,
): Promise<void> {
  await x.run(
    `INSERT INTO presence (user_id, playground_id, server_id, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (user_id, playground_id) DO UPDATE SET
       server_id = excluded.server_id, updated_at = excluded.updated_at`,
    [userId, playgroundId, serverId, now],
  );
}

/**
 * Ends the user's presence in the playground, unless another server has taken it over since (a late
 * leave from the old server of a resumed user must not hide them).
 */
export async function removePresence(
  x: SqlExecutor,
  userId: string,
  playgroundId: string,
  serverId: string,
): Promise<void> {
  await x.run('DELETE FROM presence WHERE user_id = ? AND playground_id = ? AND server_id = ?', [
    userId,
    playgroundId,
    serverId,
  ]);
}

/** True when some server refreshed the user's presence at or after `since`. */
export async function isPresent(x: SqlExecutor, userId: string, since: number): Promise<boolean> {
  const row = await x.get<{ present: number }>(
    'SELECT 1 AS present FROM presence WHERE user_id = ? AND updated_at >= ? LIMIT 1',
    [userId, since],
  );
  return row !== undefined;
}

/** Deletes presence rows not refreshed since `before`; returns how many. */
export async function deleteStalePresence(x: SqlExecutor, before: number): Promise<number> {
  return (await x.run('DELETE FROM presence WHERE updated_at < ?', [before])).changes;
}
