// Worker for sql-repository.test.ts: its own connection to the shared database, racing the others.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlDb } from './open-repository.ts';
import { SqlRepository } from './sql-repository.ts';

const { dataDir, databaseUrl, userIds, capacity } = workerData as {
  dataDir: string;
  databaseUrl?: string;
  userIds: string[];
  capacity: number;
};
const repo = new SqlRepository(openSqlDb({ dataDir, databaseUrl, dbBusyTimeoutMs: 10_000, dbPoolSize: 4 }));
const now = Date.now();
try {
  // All in flight at once: on PostgreSQL they race over the pool's connections too.
  const seats = await Promise.all(
    userIds.map((userId) =>
      repo.assignSeat({ userId, playgroundType: 'lobby', capacity, seatTtlMs: 600_000, now }),
    ),
  );
  parentPort?.postMessage(seats.map((s) => s.playgroundId));
} finally {
  await repo.close();
}
