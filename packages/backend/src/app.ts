import { createHttpServer, type Logger, type Metrics } from '@plexus/kit';
import { PROTOCOL_VERSION } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import { createBackendMetrics } from './backend-metrics.ts';
import type { BackendConfig } from './config.ts';
import { registerContinuity } from './routes/continuity.ts';
import type { EventStream } from './routes/event-stream.ts';
import { registerPartnerRoutes } from './routes/partner.ts';
import { registerPlaygroundServices } from './routes/playground-services.ts';
import { registerRpcRoutes } from './routes/rpc.ts';
import { AnalyticsRecorder } from './services/analytics-recorder.ts';
import { AnalyticsService } from './services/analytics-service.ts';
import { AuthService } from './services/auth-service.ts';
import { ProfileService } from './services/profile-service.ts';
import type { Repository } from './storage/repository.ts';
import type { SqlDb } from './storage/sql-db.ts';
import { storageUnavailable } from './storage/sql-errors.ts';
import { AnalyticsStore } from './stores/analytics-store.ts';

export interface BackendAppOptions {
  config: Pick<
    BackendConfig,
    | 'partnerKey'
    | 'sessionTtlMs'
    | 'playgroundCapacity'
    | 'matchmakingSeatTtlMs'
    | 'operatorKey'
    | 'eventInboxTtlMs'
    | 'presenceTtlMs'
  > &
    Partial<Pick<BackendConfig, 'maxConnectionsPerAddress'>>;
  logger: Logger;
  metrics: Metrics;
  repo: Repository;
  /** The repository's connection, shared by the stores written against SqlDb. */
  db: SqlDb;
  /** Epoch milliseconds; injected so tests can expire sessions and seats. */
  clock?: () => number;
}

/**
 * The backend's HTTP surface, not listening (tests drive it with `app.inject`). `/readyz` answers
 * 200 once the repository's migrations have run.
 */
export function createBackendApp(options: BackendAppOptions): FastifyInstance {
  const { config, logger, metrics, repo } = options;
  const clock = options.clock ?? Date.now;
  const backendMetrics = createBackendMetrics(metrics);

  const analytics = new AnalyticsService({ store: new AnalyticsStore(options.db), clock });
  // Logins are recorded off the request path: buffered, written in batches, flushed on close.
  const loginEvents = new AnalyticsRecorder({ sink: (events) => analytics.record({ events }), logger });
  // The event stream is built with the routes below; a change made before it exists reaches no
  // balancer, and none is connected yet then anyway.
  let stream: EventStream | undefined;
  const userChanged = (userId: string) => stream?.userChanged(userId);
  const auth = new AuthService({
    repo,
    clock,
    sessionTtlMs: config.sessionTtlMs,
    onLoggedOut: userChanged,
    onSessionCreated: (kind, userId) => {
      backendMetrics.sessionsCreated.inc({ kind });
      loginEvents.record({ type: 'login', at: clock(), userId, data: { method: kind } });
    },
  });
  const profiles = new ProfileService({ repo, clock, onChanged: userChanged });

  const app = createHttpServer({
    logger,
    metrics,
    isReady: () => repo.migrated,
    classifyError: storageUnavailable,
    openapi: {
      title: 'Plexus backend',
      version: `v0 (protocol ${PROTOCOL_VERSION})`,
      description: 'Client, partner and operator RPCs of the backend server (docs/api.md).',
    },
    ...(config.maxConnectionsPerAddress === undefined
      ? {}
      : { maxConnectionsPerAddress: config.maxConnectionsPerAddress }),
  });
  // In a plugin, so that the routes load after the OpenAPI plugin and appear in its document.
  app.register(async (api) => {
    registerRpcRoutes(api, { auth, profiles });
    registerPartnerRoutes(api, { partnerKey: config.partnerKey, auth, repo });
    registerPlaygroundServices(api, {
      config,
      db: options.db,
      repo,
      auth,
      analytics,
      clock,
      onAssigned: (outcome) => backendMetrics.matchmakingSeats.inc({ outcome }),
    });
    stream = registerContinuity(api, { config, db: options.db, logger, metrics, clock });
  });
  // A client that goes away mid-request is routine (a closed tab, a cut network): one info line.
  app.addHook('onRequestAbort', async (req) => {
    req.log.info(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched' },
      'client aborted the request',
    );
  });
  app.addHook('onClose', () => loginEvents.close());
  return app;
}
