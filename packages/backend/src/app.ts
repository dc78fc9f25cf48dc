import { createHttpServer, type Logger, type Metrics } from '@plexus/kit';
import type { FastifyInstance } from 'fastify';
import { createBackendMetrics } from './backend-metrics.ts';
import type { BackendConfig } from './config.ts';
import { registerPartnerRoutes } from './routes/partner.ts';
import { registerRpcRoutes } from './routes/rpc.ts';
import { AuthService } from './services/auth-service.ts';
import { MatchmakingService } from './services/matchmaking-service.ts';
import { ProfileService } from './services/profile-service.ts';
import type { Repository } from './storage/repository.ts';

export interface BackendAppOptions {
  config: Pick<BackendConfig, 'partnerKey' | 'sessionTtlMs' | 'playgroundCapacity' | 'matchmakingSeatTtlMs'>;
  logger: Logger;
  metrics: Metrics;
  repo: Repository;
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

  const auth = new AuthService({
    repo,
    clock,
    sessionTtlMs: config.sessionTtlMs,
    onSessionCreated: (kind) => backendMetrics.sessionsCreated.inc({ kind }),
  });
  const profiles = new ProfileService({ repo, clock });
  const matchmaking = new MatchmakingService({
    repo,
    clock,
    playgroundCapacity: config.playgroundCapacity,
    seatTtlMs: config.matchmakingSeatTtlMs,
    onAssigned: (outcome) => backendMetrics.matchmakingSeats.inc({ outcome }),
  });

  const app = createHttpServer({ logger, metrics, isReady: () => repo.migrated });
  registerRpcRoutes(app, { auth, profiles });
  registerPartnerRoutes(app, { partnerKey: config.partnerKey, auth, matchmaking });
  return app;
}
