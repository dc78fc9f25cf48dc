import type { FastifyInstance } from 'fastify';
import type { BackendConfig } from '../config.ts';
import type { AnalyticsService } from '../services/analytics-service.ts';
import type { AuthService } from '../services/auth-service.ts';
import { CatalogueService } from '../services/catalogue-service.ts';
import { MatchmakingService } from '../services/matchmaking-service.ts';
import { PartyService } from '../services/party-service.ts';
import type { Repository } from '../storage/repository.ts';
import type { SqlDb } from '../storage/sql-db.ts';
import { CatalogueStore } from '../stores/catalogue-store.ts';
import { PartyStore } from '../stores/party-store.ts';
import type { SeatOutcome } from '../stores/seat-policy.ts';
import { registerAnalyticsRoutes } from './analytics.ts';
import { registerMatchmakingRoutes } from './matchmaking.ts';
import { registerOperatorRoutes } from './operator.ts';
import { registerPlaygroundRoutes } from './playgrounds.ts';

export interface PlaygroundServicesOptions {
  config: Pick<BackendConfig, 'partnerKey' | 'operatorKey' | 'playgroundCapacity' | 'matchmakingSeatTtlMs'>;
  db: SqlDb;
  repo: Repository;
  auth: AuthService;
  analytics: AnalyticsService;
  clock: () => number;
  onAssigned?: (outcome: SeatOutcome) => void;
}

/**
 * The playground catalogue, parties, matchmaking and analytics on the backend app: stores over the
 * shared SqlDb, their services, and their player, partner and operator RPCs.
 */
export function registerPlaygroundServices(app: FastifyInstance, options: PlaygroundServicesOptions): void {
  const { config, db, clock, auth, analytics } = options;
  const catalogueStore = new CatalogueStore(db);
  const partyStore = new PartyStore(db);
  const catalogue = new CatalogueService({
    db,
    catalogue: catalogueStore,
    clock,
    seatTtlMs: config.matchmakingSeatTtlMs,
  });
  const matchmaking = new MatchmakingService({
    db,
    repo: options.repo,
    catalogue: catalogueStore,
    parties: partyStore,
    clock,
    playgroundCapacity: config.playgroundCapacity,
    seatTtlMs: config.matchmakingSeatTtlMs,
    ...(options.onAssigned ? { onAssigned: options.onAssigned } : {}),
  });
  const parties = new PartyService({ parties: partyStore, clock });

  registerPlaygroundRoutes(app, { auth, catalogue, parties });
  registerMatchmakingRoutes(app, { partnerKey: config.partnerKey, matchmaking });
  registerAnalyticsRoutes(app, { partnerKey: config.partnerKey, analytics });
  registerOperatorRoutes(app, { operatorKey: config.operatorKey, catalogue, analytics });
}
