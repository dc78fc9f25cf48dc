// Helpers shared by this package's tests (not part of the public API).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, createMetrics, DEV_SECRETS, type Metrics } from '@plexus/kit';
import type { Envelope } from '@plexus/protocol';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createBackendApp } from './app.ts';
import type { BackendConfig } from './config.ts';
import { openSqliteRepository, type SqliteRepository } from './storage/sqlite/sqlite-repository.ts';

export const PARTNER_KEY = DEV_SECRETS.partnerKey;

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
  repo: SqliteRepository;
  metrics: Metrics;
  dataDir: string;
  /** The injected clock: set `clock.now` to move time. */
  clock: { now: number };
  close(): Promise<void>;
}

/** An in-process backend over a fresh migrated SQLite database in `dataDir`. */
export async function startTestBackend(
  dataDir: string,
  config: Partial<Pick<BackendConfig, 'sessionTtlMs' | 'playgroundCapacity' | 'matchmakingSeatTtlMs'>> = {},
): Promise<TestBackend> {
  const repo = openSqliteRepository({ dataDir });
  await repo.migrate();
  const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
  const metrics = createMetrics('backend');
  const app = createBackendApp({
    config: {
      partnerKey: PARTNER_KEY,
      sessionTtlMs: config.sessionTtlMs ?? 86_400_000,
      playgroundCapacity: config.playgroundCapacity ?? 50,
      matchmakingSeatTtlMs: config.matchmakingSeatTtlMs ?? 600_000,
    },
    logger: createLogger({ component: 'backend', level: 'silent' }),
    metrics,
    repo,
    clock: () => clock.now,
  });
  await app.ready();
  return {
    app,
    repo,
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

export const rpcUrl = (method: string) => `/api/v0/rpc/${method}`;
