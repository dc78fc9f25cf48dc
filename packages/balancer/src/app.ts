import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import { createHttpServer, createMetrics, type Metrics, ok } from '@plexus/kit';
import { CONTROL_PATH, HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuthCache } from './auth-cache.ts';
import { type BackendClient, HttpBackendClient } from './backend-client.ts';
import type { BalancerConfig } from './config.ts';
import { ControlChannel } from './control-channel.ts';
import { JoinService } from './join-service.ts';
import { createBalancerMetrics } from './metrics.ts';
import { ServerRegistry } from './registry.ts';
import { registerBackendProxy } from './routes/backend-proxy.ts';
import { registerEndpointRoutes, SERVERS_PATH } from './routes/endpoint-routes.ts';
import { SeatLedger } from './seat-ledger.ts';
import { TicketSigner } from './tickets.ts';

/** Request bodies on the balancer are small (DESIGN.md §8: 16 KiB on auth RPCs). */
export const BALANCER_BODY_LIMIT_BYTES = 16 * 1024;

export interface BalancerParts {
  config: BalancerConfig;
  logger: Logger;
  /** Defaults to the backend over HTTP at `config.backendUrl`. */
  backend?: BackendClient;
  metrics?: Metrics;
  /** Clock for tickets, seats, the auth cache and the registry. */
  now?: () => number;
}

export interface BalancerApp {
  app: FastifyInstance;
  registry: ServerRegistry;
  ledger: SeatLedger;
  signer: TicketSigner;
  authCache: AuthCache;
  control: ControlChannel;
  join: JoinService;
  metrics: Metrics;
}

/**
 * Builds the balancer from its parts: the HTTP API (fastify; use `app.inject` in tests), the control
 * channel attached to the same HTTP server's upgrade event, and the in-memory registry. Closing the
 * fastify app closes the control sockets first.
 */
export async function createBalancerApp(parts: BalancerParts): Promise<BalancerApp> {
  const { config, logger } = parts;
  const now = parts.now ?? Date.now;
  const metrics = parts.metrics ?? createMetrics('balancer');
  const registry = new ServerRegistry({ now });
  const ledger = new SeatLedger({ now });
  const signer = await TicketSigner.create({ ttlMs: config.ticketTtlMs, now });
  const authCache = new AuthCache({
    ttlMs: config.authCacheTtlMs,
    maxEntries: config.authCacheMaxEntries,
    now,
  });
  const backend =
    parts.backend ??
    new HttpBackendClient({
      backendUrl: config.backendUrl,
      partnerKey: config.partnerKey,
      timeoutMs: config.backendTimeoutMs,
      logger: logger.child({ peer: 'backend' }),
    });
  const balancerMetrics = createBalancerMetrics(metrics, registry);
  const join = new JoinService({
    backend,
    authCache,
    registry,
    ledger,
    signer,
    metrics: balancerMetrics,
    logger,
  });

  const app = createHttpServer({
    logger,
    metrics,
    bodyLimitBytes: BALANCER_BODY_LIMIT_BYTES,
    // Ready once listening; dedicated servers may register later.
    isReady: () => app.server.listening,
  });

  const control = new ControlChannel({
    registry,
    ledger,
    ticketKey: signer.publicJwk,
    clusterSecret: config.clusterSecret,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    registerTimeoutMs: config.registerTimeoutMs,
    logger: logger.child({ channel: 'control' }),
  });
  control.attach(app.server);

  // Expired reservations are purged lazily on every query; this bounds the ledger when idle too.
  const sweep = setInterval(() => ledger.sweep(), Math.max(1_000, config.ticketTtlMs));
  sweep.unref();
  app.addHook('preClose', async () => {
    clearInterval(sweep);
    await control.close();
  });

  registerEndpointRoutes(app, { join, registry, ledger });
  await registerBackendProxy(app, backend);

  const webRoot = config.webRoot ? resolve(config.webRoot) : undefined;
  if (webRoot && isDirectory(webRoot)) {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: 'index.html' });
  } else {
    if (webRoot)
      logger.warn({ webRoot }, 'PLEXUS_WEB_ROOT is not a directory; serving the API description at /');
    app.get('/', async () =>
      ok({
        service: 'plexus-balancer',
        endpoints: {
          getEndpoint: `POST ${HttpPaths.getEndpoint}`,
          getEndpointPlaygroundId: `POST ${HttpPaths.getEndpointPlaygroundId}`,
          servers: `GET ${SERVERS_PATH}`,
          backendRpc: `POST ${HttpPaths.rpcPrefix}<service>.<method>`,
          control: `GET ${CONTROL_PATH} (WebSocket, dedicated servers)`,
          health: 'GET /healthz, GET /readyz, GET /metrics',
        },
      }),
    );
  }

  return { app, registry, ledger, signer, authCache, control, join, metrics };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
