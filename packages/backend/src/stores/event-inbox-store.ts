import type { PlexusEventEnvelope } from '@plexus/protocol';
import type { SqlExecutor } from '../storage/sql-db.ts';

/**
 * Stores an event for an offline user after their newest one, then drops their oldest beyond
 * `maxPerUser`. Run it in a transaction serialised per user (lockKey): `seq` is read-then-written.
 * Returns how many old events were dropped.
 */
export async function putInboxEvent(
  x: SqlExecutor,
  userId: string,
  event: PlexusEventEnvelope,
  expiresAt: number,
  maxPerUser: number,
): Promise<number> {
  const last = await x.get<{ seq: number | string }>(
    'SELECT COALESCE(MAX(seq), 0) AS seq FROM event_inbox WHERE user_id = ?',
    [userId],
  );
  const seq = Number(last?.seq ?? 0) + 1;
  await x.run('INSERT INTO event_inbox (user_id, seq, event, expires_at) VALUES (?, ?, ?, ?)', [
    userId,
    seq,
    JSON.stringify(event),
    expiresAt,
  ]);
  return (await x.run('DELETE FROM event_inbox WHERE user_id = ? AND seq <= ?', [userId, seq - maxPerUser]))
    .changes;
}

/** Deletes every stored event of the user and returns the unexpired ones, oldest first. */
export async function takeInboxEvents(
  x: SqlExecutor,
  userId: string,
  now: number,
): Promise<PlexusEventEnvelope[]> {
  const rows = await x.all<{ seq: number | string; event: string; expires_at: number | string }>(
    'DELETE FROM event_inbox WHERE user_id = ? RETURNING seq, event, expires_at',
    [userId],
  );
  return rows
    .filter((r) => Number(r.expires_at) > now)
    .sort((a, b) => Number(a.seq) - Number(b.seq))
    .map((r) => JSON.parse(r.event) as PlexusEventEnvelope);
}

/** Deletes events whose time is up; returns how many. */
export async function deleteExpiredInboxEvents(x: SqlExecutor, now: number): Promise<number> {
  return (await x.run('DELETE FROM event_inbox WHERE expires_at <= ?', [now])).changes;
}
