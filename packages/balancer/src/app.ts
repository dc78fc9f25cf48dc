import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import { createHttpServer, createMetrics, type Metrics, ok } from '@plexus/kit';
import { CONTROL_PATH, HttpPaths, PROTOCOL_VERSION } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AnalyticsRecorder } from './analytics-recorder.ts';
import { AuthCache } from './auth-cache.ts';
import { type BackendClient, HttpBackendClient } from './backend-client.ts';
import { BackendEvents } from './backend-events.ts';
import type { ClusterStore } from './cluster-store.ts';
import type { BalancerConfig } from './config.ts';
import { ConsoleFeed } from './console/feed.ts';
import { ControlChannel } from './control-channel.ts';
import { ControlRpc } from './control-rpc.ts';
import { JoinLimiter } from './join-limiter.ts';
import { JoinService } from './join-service.ts';
import { MemoryClusterStore } from './memory-store.ts';
import { createBalancerMetrics } from './metrics.ts';
import { type PeerBus, RedisPeerBus } from './redis-bus.ts';
import { RedisClusterStore } from './redis-store.ts';
import { Relocator } from './relocation.ts';
import { registerAdminRoutes } from './routes/admin-routes.ts';
import { registerBackendProxy } from './routes/backend-proxy.ts';
import { registerConsoleRoutes } from './routes/console-routes.ts';
import { registerEndpointRoutes, SERVERS_PATH } from './routes/endpoint-routes.ts';
import { registerFleetAutoscaleRoutes } from './routes/fleet-autoscale-routes.ts';
import { registerWebConfigRoute, WEB_CONFIG_PATH } from './routes/web-config.ts';
import { ServerRouter } from './server-router.ts';
import { TicketSigner } from './tickets.ts';

/** How often the operator console's streams get a fresh snapshot, and how many may be open. */
export const CONSOLE_PUSH_INTERVAL_MS = 1000;
export const CONSOLE_MAX_STREAMS = 16;

/** Request bodies on the balancer are small (docs/operations.md "Limits": 16 KiB on auth RPCs). */
export const BALANCER_BODY_LIMIT_BYTES = 16 * 1024;

export interface BalancerParts {
  config: BalancerConfig;
  logger: Logger;
  /** Defaults to the backend over HTTP at `config.backendUrl`. */
  backend?: BackendClient;
  metrics?: Metrics;
  /** Clock for tickets, seats, the auth cache and the registry. */
  now?: () => number;
  /** Whether to subscribe to the backend's event stream (default true). */
  events?: boolean;
}

export interface BalancerApp {
  app: FastifyInstance;
  /** This balancer's id among several (Redis mode). */
  lbId: string;
  store: ClusterStore;
  signer: TicketSigner;
  authCache: AuthCache;
  control: ControlChannel;
  router: ServerRouter;
  join: JoinService;
  analytics: AnalyticsRecorder;
  events: BackendEvents | undefined;
  metrics: Metrics;
}

/**
 * Builds the balancer from its parts: the HTTP API (fastify; use `app.inject` in tests), the control
 * channel attached to the same HTTP server's upgrade event, the cluster state (in memory, or in Redis
 * with `redisUrl`) and the backend's event stream. Closing the fastify app closes everything.
 */
export async function createBalancerApp(parts: BalancerParts): Promise<BalancerApp> {
  const { config, logger } = parts;
  const now = parts.now ?? Date.now;
  const metrics = parts.metrics ?? createMetrics('balancer');
  const lbId =
    config.lbId ?? (config.port === 0 ? `lb-${randomBytes(4).toString('hex')}` : `lb-${config.port}`);
  const backend =
    parts.backend ??
    new HttpBackendClient({
      backendUrl: config.backendUrl,
      partnerKey: config.partnerKey,
      timeoutMs: config.backendTimeoutMs,
      logger: logger.child({ peer: 'backend' }),
    });
  let store: ClusterStore;
  let bus: PeerBus | undefined;
  let router: ServerRouter | undefined;
  if (config.redisUrl) {
    const redisStore = await RedisClusterStore.connect({
      url: config.redisUrl,
      lbId,
      // Long enough to ride out a few missed refreshes, short enough that a dead balancer's servers
      // stop counting as alive within seconds.
      ttlMs: Math.max(3_000, config.heartbeatIntervalMs * (config.deadAfterMisses + 2)),
      logger: logger.child({ peer: 'redis' }),
      now,
    });
    const redisBus = new RedisPeerBus({
      url: config.redisUrl,
      prefix: redisStore.prefix,
      lbId,
      publisher: redisStore.connection,
      logger: logger.child({ peer: 'redis' }),
      onDelivery: (delivery) => router?.onPeerDelivery(delivery),
    });
    await redisBus.ready();
    store = redisStore;
    bus = redisBus;
    logger.info({ lbId, redis: new URL(config.redisUrl).host }, 'cluster state in redis');
  } else {
    store = new MemoryClusterStore({ lbId, now });
  }

  const signer = await TicketSigner.create({ ttlMs: config.ticketTtlMs, now });
  const authCache = new AuthCache({
    ttlMs: config.authCacheTtlMs,
    maxEntries: config.authCacheMaxEntries,
    now,
  });
  // The control channel is created below; these close over it. With one balancer every registered
  // server holds a socket to it; with several, a server may be held by others only.
  let control: ControlChannel | undefined;
  const connected =
    store.mode === 'memory' ? () => true : (serverId: string) => control?.isConnected(serverId) ?? false;
  const balancerMetrics = createBalancerMetrics(
    metrics,
    store,
    () => control?.connectedServers().length ?? 0,
  );
  const analytics = new AnalyticsRecorder({
    backend,
    logger: logger.child({ peer: 'analytics' }),
    onDropped: (n) => balancerMetrics.analyticsDropped.inc(n),
  });
  const join = new JoinService({
    backend,
    authCache,
    store,
    signer,
    metrics: balancerMetrics,
    analytics,
    clusterSecret: config.clusterSecret,
    maxHeldSeatsPerUser: config.maxHeldSeatsPerUser,
    connected,
    notify: (serverId, message) => control?.send(serverId, message),
    logger,
  });
  const limiter = new JoinLimiter({
    perSession: { burst: config.joinBurstPerSession, ratePerSec: config.joinRatePerSessionPerSec },
    perAddress: { burst: config.joinBurstPerAddress, ratePerSec: config.joinRatePerAddressPerSec },
    now,
  });
  const relocator = new Relocator({
    store,
    backend,
    signer,
    clusterSecret: config.clusterSecret,
    logger: logger.child({ channel: 'control' }),
    connected,
  });

  const app = createHttpServer({
    logger,
    metrics,
    bodyLimitBytes: BALANCER_BODY_LIMIT_BYTES,
    maxConnectionsPerAddress: config.maxConnectionsPerAddress,
    // Ready once listening; dedicated servers may register later.
    isReady: () => app.server.listening,
    openapi: {
      title: 'Plexus load balancer',
      version: `v0 (protocol ${PROTOCOL_VERSION})`,
      description:
        'Endpoint resolution, operator routes and the backend RPC proxy of a load balancer (docs/api.md).',
    },
  });
  // The OpenAPI plugin loads now, so it sees every route registered below.
  await app.after();

  const channel = new ControlChannel({
    store,
    rpc: new ControlRpc({
      backend,
      relocator,
      metrics: balancerMetrics,
      logger: logger.child({ channel: 'control' }),
    }),
    ticketKey: signer.publicJwk,
    clusterSecret: config.clusterSecret,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    deadAfterMisses: config.deadAfterMisses,
    registerTimeoutMs: config.registerTimeoutMs,
    logger: logger.child({ channel: 'control' }),
    onReleases: (releases) => router?.deliverReleases(releases),
    onServerDead: () => balancerMetrics.serversDead.inc(),
  });
  control = channel;
  channel.attach(app.server);
  const serverRouter = new ServerRouter({
    local: channel,
    store,
    lbId,
    bus,
    logger: logger.child({ channel: 'control' }),
    onEventDelivered: (n) => balancerMetrics.eventsDelivered.inc(n),
  });
  router = serverRouter;

  const events =
    parts.events === false
      ? undefined
      : new BackendEvents({
          backendUrl: config.backendUrl,
          partnerKey: config.partnerKey,
          logger: logger.child({ peer: 'backend-events' }),
          onUserChanged: (userId) => authCache.forgetUser(userId),
          // Changes announced while the stream was down were missed: forget everything.
          onOpen: () => authCache.clear(),
          onEvent: (event) => {
            serverRouter
              .deliverEvent(event)
              .catch((err: unknown) => logger.warn({ err, eventId: event.id }, 'event delivery failed'));
          },
        });
  app.addHook('onListen', async () => events?.start());

  const feed = new ConsoleFeed({
    store,
    lbId,
    intervalMs: CONSOLE_PUSH_INTERVAL_MS,
    maxStreams: CONSOLE_MAX_STREAMS,
    logger: logger.child({ peer: 'console' }),
    now,
  });
  app.addHook('preClose', async () => {
    feed.close();
    await events?.close();
    await channel.close();
    await analytics.close();
    await bus?.close();
    await store.close();
  });

  registerEndpointRoutes(app, { join, store, limiter, operatorKey: config.operatorKey });
  registerAdminRoutes(app, {
    operatorKey: config.operatorKey,
    // Consoles see a drain at once rather than at the next push.
    router: {
      drain: async (serverId) => {
        const found = await serverRouter.drain(serverId);
        if (found) void feed.push();
        return found;
      },
    },
  });
  registerConsoleRoutes(app, { operatorKey: config.operatorKey, feed, backend });
  registerFleetAutoscaleRoutes(app, {
    store,
    policy: {
      minFreeSeats: config.autoscaleMinFreeSeats,
      maxFreeSeats: config.autoscaleMaxFreeSeats,
      maxReplicas: config.agonesMaxReplicas,
    },
  });
  await registerBackendProxy(app, backend, authCache);
  registerWebConfigRoute(app, {
    avatarOrigins: config.webAvatarOrigins,
    avatarMaxBytes: config.webAvatarMaxBytes,
  });

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
          webConfig: `GET ${WEB_CONFIG_PATH}`,
          drain: `POST ${HttpPaths.adminServersPrefix}<serverId>/drain (operator key)`,
          backendRpc: `POST ${HttpPaths.rpcPrefix}<service>.<method>`,
          control: `GET ${CONTROL_PATH} (WebSocket, dedicated servers)`,
          health: 'GET /healthz, GET /readyz, GET /metrics',
        },
      }),
    );
  }

  return {
    app,
    lbId,
    store,
    signer,
    authCache,
    control: channel,
    router: serverRouter,
    join,
    analytics,
    events,
    metrics,
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
