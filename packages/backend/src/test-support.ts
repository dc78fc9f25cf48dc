// Helpers shared by this package's tests (not part of the public API).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createMetrics, DEV_SECRETS, type Metrics } from '@plexus/kit';
import { type Envelope, ErrorCodes } from '@plexus/protocol';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createBackendApp } from './app.ts';
import type { BackendConfig } from './config.ts';
import { openSqliteDb } from './storage/open-repository.ts';
import type { SqlDb } from './storage/sql-db.ts';
import { SqlRepository } from './storage/sql-repository.ts';

export const PARTNER_KEY = DEV_SECRETS.partnerKey;
export const OPERATOR_KEY = DEV_SECRETS.operatorKey;

/** A temp directory for one test file; `remove()` deletes it (call from `after`). */
export function tempRoot(): { dir: string; sub(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-backend-test-'));
  let n = 0;
  return {
    dir,
    sub: (name) => join(dir, `${name}-${++n}`),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TestBackend {
  app: FastifyInstance;
  repo: SqlRepository;
  /** The repository's connection, for stores under test. */
  db: SqlDb;
  metrics: Metrics;
  dataDir: string;
  /** The injected clock: set `clock.now` to move time. */
  clock: { now: number };
  close(): Promise<void>;
}

/**
 * An in-process backend over a fresh migrated SQLite database in `dataDir`, or over `storage.db`
 * (any engine, e.g. from forEachEngine); `storage.migrate: false` leaves the schema as it is.
 */
export async function startTestBackend(
  dataDir: string,
  config: Partial<
    Pick<
      BackendConfig,
      'sessionTtlMs' | 'playgroundCapacity' | 'matchmakingSeatTtlMs' | 'eventInboxTtlMs' | 'presenceTtlMs'
    >
  > = {},
  storage: { db?: SqlDb; migrate?: boolean } = {},
): Promise<TestBackend> {
  const db = storage.db ?? openSqliteDb(dataDir);
  const repo = new SqlRepository(db);
  if (storage.migrate ?? true) await repo.migrate();
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const metrics = createMetrics('backend');
  const app = createBackendApp({
    config: {
      partnerKey: PARTNER_KEY,
      operatorKey: OPERATOR_KEY,
      eventInboxTtlMs: config.eventInboxTtlMs ?? 3_600_000,
      presenceTtlMs: config.presenceTtlMs ?? 30_000,
      sessionTtlMs: config.sessionTtlMs ?? 86_400_000,
      playgroundCapacity: config.playgroundCapacity ?? 50,
      matchmakingSeatTtlMs: config.matchmakingSeatTtlMs ?? 600_000,
    },
    logger: createLogger({ component: 'backend', level: 'silent' }),
    metrics,
    repo,
    db,
    clock: () => clock.now,
  });
  await app.ready();
  return {
    app,
    repo,
    db,
    metrics,
    dataDir,
    clock,
    async close() {
      await app.close();
      await repo.close();
    },
  };
}

export interface CallResult<T> {
  status: number;
  body: Envelope<T>;
  response: LightMyRequestResponse;
}

/** POSTs JSON (an object, or a raw string sent as-is) and parses the envelope. */
export async function post<T = Record<string, unknown>>(
  app: FastifyInstance,
  url: string,
  body: unknown,
  bearer?: string,
  headers: Record<string, string> = {},
): Promise<CallResult<T>> {
  const response = await app.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      ...headers,
    },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.statusCode, body: response.json() as Envelope<T>, response };
}

/** Asserts-friendly view of a failure: [http status, error code]. */
export function failure(result: CallResult<unknown>): [number, number] {
  return [result.status, result.body.error.code];
}

/** The [http status, error code] that `failure` gives for the error `name`. */
export const code = (name: keyof typeof ErrorCodes): [number, number] => [
  ErrorCodes[name].status,
  ErrorCodes[name].code,
];

export const rpcUrl = (method: string) => `/api/v0/rpc/${method}`;
