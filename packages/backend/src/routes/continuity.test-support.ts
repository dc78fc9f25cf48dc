// Helpers of the continuity route tests (not part of the public API; tests only).
import type { TestContext } from 'node:test';
import { createLogger, createMetrics, type Metrics } from '@plexus/kit';
import type { FastifyInstance } from 'fastify';
import { createBackendApp } from '../app.ts';
import type { SqlDb } from '../storage/sql-db.ts';
import { SqlRepository } from '../storage/sql-repository.ts';
import { OPERATOR_KEY, PARTNER_KEY, post } from '../test-support.ts';

export interface EngineBackend {
  app: FastifyInstance;
  metrics: Metrics;
  /** The injected clock: set `clock.now` to move time. */
  clock: { now: number };
}

export const INBOX_TTL_MS = 60_000;
export const PRESENCE_TTL_MS = 10_000;

/** The backend app over an already migrated database (forEachEngine's), closed after the test. */
export async function startEngineBackend(db: SqlDb, t: TestContext): Promise<EngineBackend> {
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const metrics = createMetrics('backend');
  const app = createBackendApp({
    config: {
      partnerKey: PARTNER_KEY,
      operatorKey: OPERATOR_KEY,
      eventInboxTtlMs: INBOX_TTL_MS,
      presenceTtlMs: PRESENCE_TTL_MS,
      sessionTtlMs: 86_400_000,
      playgroundCapacity: 50,
      matchmakingSeatTtlMs: 600_000,
    },
    logger: createLogger({ component: 'backend', level: 'silent' }),
    metrics,
    repo: new SqlRepository(db),
    db,
    clock: () => clock.now,
  });
  await app.ready();
  t.after(() => app.close());
  return { app, metrics, clock };
}

export const partnerRpc = <T = Record<string, unknown>>(
  app: FastifyInstance,
  method: string,
  body: unknown,
) => post<T>(app, `/api/v0/partnerRpc/${method}`, body, PARTNER_KEY);

export const operatorRpc = <T = Record<string, unknown>>(
  app: FastifyInstance,
  method: string,
  body: unknown,
) => post<T>(app, `/api/v0/operatorRpc/${method}`, body, OPERATOR_KEY);

/** The value of a counter sample in the app's /metrics text, 0 when absent. */
export async function metricValue(app: FastifyInstance, sample: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
