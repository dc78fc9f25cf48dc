import type { Logger } from '@plexus/kit';
import type { SqlDb } from '../storage/sql-db.ts';
import { deleteExpiredInboxEvents } from '../stores/event-inbox-store.ts';
import { deleteStalePresence } from '../stores/presence-store.ts';

/** How often expired inbox events and stale presence rows are deleted. */
export const CONTINUITY_PRUNE_INTERVAL_MS = 60_000;

/** Deletes expired inbox events and presence not refreshed within `presenceTtlMs`. */
export async function pruneContinuity(
  db: SqlDb,
  now: number,
  presenceTtlMs: number,
): Promise<{ inbox: number; presence: number }> {
  const inbox = await deleteExpiredInboxEvents(db, now);
  const presence = await deleteStalePresence(db, now - presenceTtlMs);
  return { inbox, presence };
}

/**
 * Runs pruneContinuity every interval (unref'd timer). `stop()` ends it and resolves once a prune in
 * flight has finished, so the database can be closed after it.
 */
export function startContinuityHousekeeping(options: {
  db: SqlDb;
  presenceTtlMs: number;
  logger: Logger;
  intervalMs?: number;
}): { stop(): Promise<void> } {
  const { db, presenceTtlMs, logger } = options;
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = pruneContinuity(db, Date.now(), presenceTtlMs).then(
      (deleted) => {
        if (deleted.inbox + deleted.presence > 0)
          logger.debug(deleted, 'expired events and stale presence deleted');
      },
      (err: unknown) => logger.warn({ err }, 'continuity housekeeping failed'),
    );
    void running.finally(() => {
      running = undefined;
    });
  }, options.intervalMs ?? CONTINUITY_PRUNE_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
