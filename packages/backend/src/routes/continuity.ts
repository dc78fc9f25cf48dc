import type { Logger, Metrics } from '@plexus/kit';
import type { FastifyInstance } from 'fastify';
import type { BackendConfig } from '../config.ts';
import { CheckpointService } from '../services/checkpoint-service.ts';
import { createContinuityMetrics } from '../services/continuity-metrics.ts';
import { EventService } from '../services/event-service.ts';
import { PlayerService } from '../services/player-service.ts';
import type { SqlDb } from '../storage/sql-db.ts';
import { registerCheckpointRoutes } from './checkpoints.ts';
import { EventStream } from './event-stream.ts';
import { registerEventRoutes } from './events.ts';
import { registerPlayerRoutes } from './players.ts';

export interface ContinuityOptions {
  config: Pick<BackendConfig, 'partnerKey' | 'operatorKey' | 'eventInboxTtlMs' | 'presenceTtlMs'>;
  db: SqlDb;
  logger: Logger;
  metrics: Metrics;
  clock: () => number;
}

/**
 * Checkpoints, player data and events on the backend app: their RPCs, and the event stream on the
 * app's HTTP server (closed before the server on app.close()).
 */
export function registerContinuity(app: FastifyInstance, options: ContinuityOptions): EventStream {
  const { config, db, clock } = options;
  const logger = options.logger.child({ module: 'continuity' });
  const metrics = createContinuityMetrics(options.metrics);
  const stream = new EventStream({ partnerKey: config.partnerKey, metrics, logger });
  stream.attach(app.server);
  app.addHook('preClose', () => stream.close());

  const { partnerKey, operatorKey } = config;
  registerCheckpointRoutes(app, {
    partnerKey,
    operatorKey,
    checkpoints: new CheckpointService({ db, clock, metrics, logger }),
  });
  registerPlayerRoutes(app, {
    partnerKey,
    operatorKey: config.operatorKey,
    players: new PlayerService({ db, clock }),
  });
  const events = new EventService({
    db,
    sink: stream,
    clock,
    inboxTtlMs: config.eventInboxTtlMs,
    presenceTtlMs: config.presenceTtlMs,
    metrics,
    logger,
  });
  registerEventRoutes(app, { partnerKey, operatorKey, events });
  return stream;
}
