import { createBackendApp, openSqliteDb, SqlRepository } from '@plexus/backend';
import { type BalancerApp, createBalancerApp, loadBalancerConfig } from '@plexus/balancer';
import { createLogger, createMetrics, type Metrics } from '@plexus/kit';
import type { FastifyInstance } from 'fastify';

const logger = createLogger({ component: 'test', level: 'silent' });

/** A backend app over a fresh migrated SQLite database in `dataDir`, not listening. */
export async function inProcessBackend(dataDir: string): Promise<{ app: FastifyInstance; metrics: Metrics }> {
  const db = openSqliteDb(dataDir);
  const repo = new SqlRepository(db);
  await repo.migrate();
  const metrics = createMetrics('backend');
  const app = createBackendApp({
    config: {
      partnerKey: 'in-process-partner-key-0123',
      operatorKey: 'in-process-operator-key-0123',
      eventInboxTtlMs: 3_600_000,
      presenceTtlMs: 30_000,
      sessionTtlMs: 86_400_000,
      playgroundCapacity: 50,
      matchmakingSeatTtlMs: 600_000,
    },
    logger,
    metrics,
    repo,
    db,
  });
  await app.ready();
  return { app, metrics };
}

/** A balancer app with no backend behind it and no event stream, not listening. */
export function inProcessBalancer(): Promise<BalancerApp> {
  return createBalancerApp({
    config: loadBalancerConfig({}, { port: 0, clusterSecret: 'in-process-cluster-secret-0123' }),
    logger,
    events: false,
  });
}
