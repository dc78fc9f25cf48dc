// Helpers of the catalogue, matchmaking, party and analytics route tests (tests only).
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { createLogger, createMetrics } from '@plexus/kit';
import { type CataloguePlayground, HttpPaths, type UserSimple } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import { createBackendApp } from '../app.ts';
import type { SqlDb } from '../storage/sql-db.ts';
import { SqlRepository } from '../storage/sql-repository.ts';
import { type CallResult, code, OPERATOR_KEY, PARTNER_KEY, post, rpcUrl } from '../test-support.ts';

export { code };

export const SEAT_TTL_MS = 600_000;

export interface MatchBackend {
  app: FastifyInstance;
  /** The injected clock: set `clock.now` to move time. */
  clock: { now: number };
}

/** The backend app over an already migrated database (forEachEngine's), closed after the test. */
export async function startMatchBackend(
  db: SqlDb,
  t: TestContext,
  config: { playgroundCapacity?: number } = {},
): Promise<MatchBackend> {
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const app = createBackendApp({
    config: {
      partnerKey: PARTNER_KEY,
      operatorKey: OPERATOR_KEY,
      eventInboxTtlMs: 3_600_000,
      presenceTtlMs: 30_000,
      sessionTtlMs: 86_400_000,
      playgroundCapacity: config.playgroundCapacity ?? 50,
      matchmakingSeatTtlMs: SEAT_TTL_MS,
    },
    logger: createLogger({ component: 'backend', level: 'silent' }),
    metrics: createMetrics('backend'),
    repo: new SqlRepository(db),
    db,
    clock: () => clock.now,
  });
  await app.ready();
  t.after(() => app.close());
  return { app, clock };
}

/** `key` null sends no Authorization header. */
export const operatorRpc = <T = Record<string, unknown>>(
  app: FastifyInstance,
  method: string,
  body: unknown,
  key: string | null = OPERATOR_KEY,
) => post<T>(app, `${HttpPaths.operatorRpcPrefix}${method}`, body, key ?? undefined);

export const partnerRpc = <T = Record<string, unknown>>(
  app: FastifyInstance,
  method: string,
  body: unknown,
  key: string | null = PARTNER_KEY,
) => post<T>(app, `${HttpPaths.partnerRpcPrefix}${method}`, body, key ?? undefined);

/** The data of a successful call (fails the test otherwise). */
export function dataOf<T>(result: CallResult<T>): T {
  assert.equal(
    result.status,
    200,
    `expected 200, got ${result.status}: ${JSON.stringify(result.body.error)}`,
  );
  return result.body.data as T;
}

export async function createPlayground(
  app: FastifyInstance,
  body: Record<string, unknown>,
): Promise<CataloguePlayground> {
  return dataOf(await operatorRpc<{ playground: CataloguePlayground }>(app, 'playgrounds.create', body))
    .playground;
}

/** A guest user and their session. */
export async function guest(
  app: FastifyInstance,
  firstName = 'Guest',
): Promise<{ sessionId: string; user: UserSimple }> {
  return dataOf(
    await post<{ sessionId: string; user: UserSimple }>(app, rpcUrl('auth.guest'), { firstName }),
  );
}

/** `matchmaking.findPlayground` as the balancer calls it. */
export const find = (app: FastifyInstance, body: Record<string, unknown>) =>
  post<{ playgroundId: string }>(app, HttpPaths.matchmakingFind, body, PARTNER_KEY);

/** `matchmaking.joinPlayground` as the balancer calls it. */
export const join = (app: FastifyInstance, body: Record<string, unknown>) =>
  post<{ playgroundId: string }>(app, HttpPaths.matchmakingJoin, body, PARTNER_KEY);
