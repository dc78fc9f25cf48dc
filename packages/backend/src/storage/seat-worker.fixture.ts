// Worker for sql-repository.test.ts: its own connection to the shared database, racing the others.
import { parentPort, workerData } from 'node:worker_threads';
import { AutoPool, seatUser } from '../stores/seat-pools.ts';
import { openSqlDb } from './open-repository.ts';

const { dataDir, databaseUrl, userIds, capacity } = workerData as {
  dataDir: string;
  databaseUrl?: string;
  userIds: string[];
  capacity: number;
};
const db = openSqlDb({ dataDir, databaseUrl, dbBusyTimeoutMs: 10_000, dbPoolSize: 4 });
const now = Date.now();
const pool = new AutoPool('lobby', capacity, now);
try {
  // All in flight at once: on PostgreSQL they race over the pool's connections too.
  const seats = await Promise.all(
    userIds.map((userId) =>
      db.transaction((tx) => seatUser(tx, pool, { userId, now, freshAfter: now - 600_000 }), {
        lockKey: pool.lockKey,
      }),
    ),
  );
  parentPort?.postMessage(seats.map((s) => s?.playgroundId));
} finally {
  await db.close();
}
