// Worker for sqlite-repository.test.ts: its own connection to the shared file, racing the others.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteRepository } from './sqlite-repository.ts';

const { file, userIds, capacity } = workerData as { file: string; userIds: string[]; capacity: number };
const repo = new SqliteRepository(file, { busyTimeoutMs: 10_000 });
const now = Date.now();
const results: string[] = [];
for (const userId of userIds) {
  const seat = await repo.assignSeat({ userId, playgroundType: 'lobby', capacity, seatTtlMs: 600_000, now });
  results.push(seat.playgroundId);
}
await repo.close();
parentPort?.postMessage(results);
