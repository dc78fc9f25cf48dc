import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createHttpServer, type Logger } from '@plexus/kit';
import { CONTROL_PROTOCOL_VERSION, type ErrorName, type LoadMessage } from '@plexus/protocol';
import { AnalyticsBuffer } from './analytics/analytics-buffer.ts';
import type { ServerConfig } from './config.ts';
import { Checkpointer } from './continuity/checkpointer.ts';
import { Drainer } from './continuity/drainer.ts';
import { ResumeTokens } from './continuity/resume-tokens.ts';
import { BalancerLinks } from './control/balancer-links.ts';
import { ReplayCache } from './control/replay-cache.ts';
import { TicketVerifier } from './control/ticket-verifier.ts';
import { EventRelay } from './events/event-relay.ts';
import { startIdleReclaim } from './memory/idle-reclaim.ts';
import { createServerMetrics } from './metrics.ts';
import { PlayerSync } from './players/player-sync.ts';
import { PrefetchedRecords } from './players/prefetched-records.ts';
import { PlaygroundHost } from './playground/playground-host.ts';
import { type Scheduler, TickLoop } from './playground/tick-loop.ts';
import { loadPlaygroundTypeModules, PlaygroundTypes } from './playground/type-registry.ts';
import { ReplicationStats } from './replication/replication-stats.ts';
import { AddressLimits } from './transport/address-limits.ts';
import { CLIENT_WS_PATH, WsGateway } from './transport/ws-gateway.ts';

const PACKAGE_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/** A new playground must be claimed within this long, else its joiners are refused NOT_READY (4012). */
const CLAIM_TIMEOUT_MS = 2_000;
const PUBLISH_TIMEOUT_MS = 5_000;
/** At the end of a drain, queued analytics and leaves get this long to go out. */
const FINAL_FLUSH_MS = 1_000;

export interface StartServerOptions {
  logger: Logger;
  /**
   * Called once a drain the balancer asked for (`drain` or `shutdown` command) finished: the CLI
   * exits the process. Without it the server closes itself.
   */
  onDrained?: () => void;
  /** Wall clock (ms since epoch): ticket expiry, serverTimeMs. */
  wallClock?: () => number;
  /** Monotonic clock (ms): tick, rates, speeds, timeouts. */
  now?: () => number;
  /** Tick timer (tests may drive ticks by hand). */
  scheduler?: Scheduler;
}

export interface ServerHandle {
  /** HTTP base URL (health, readiness, metrics). */
  url: string;
  /** Public WebSocket endpoint clients connect to. */
  endpoint: string;
  serverId: string;
  /**
   * Moves every playground elsewhere (final checkpoint, relocation, REDIRECT to each client), then
   * resolves; new joins are refused from the first moment. Idempotent.
   */
  drain(): Promise<void>;
  /** Drains, then stops everything (SIGTERM). Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a dedicated server: HTTP (health, readiness, metrics) with the client WebSocket on `/ws`,
 * the tick loop over every hosted playground, the control channels to the balancers, and the
 * continuity machinery (checkpoints, resumes, drain), player records, events and analytics.
 */
export async function startServer(config: ServerConfig, options: StartServerOptions): Promise<ServerHandle> {
  const { logger } = options;
  const wallClock = options.wallClock ?? Date.now;
  const now = options.now ?? (() => performance.now());
  // Playground types load before anything binds: a bad module or map stops the start-up.
  const types = new PlaygroundTypes(
    await loadPlaygroundTypeModules(config.playgroundTypes),
    config.playgroundTypeMap,
    config.defaultPlaygroundType,
  );

  let host: PlaygroundHost | null = null;
  let links: BalancerLinks | null = null;
  let verifier: TicketVerifier | null = null;
  let draining: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  const metrics = createServerMetrics({
    clients: () => host?.playerCount ?? 0,
    playgrounds: () => host?.playgroundCount ?? 0,
    entities: () => host?.entityCount ?? 0,
    awaiting: () => host?.awayCount ?? 0,
  });
  const app = createHttpServer({
    logger,
    metrics,
    isReady: () => Boolean(verifier?.ready && links?.isRegistered && !draining),
    // Every client socket plus room for health checks and scrapes from the same address.
    maxConnectionsPerAddress: config.maxSocketsPerAddress + config.maxPendingHandshakesPerAddress + 16,
  });

  await app.listen({ host: config.host, port: config.port });
  const port = (app.server.address() as AddressInfo).port;
  const hostPart = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostPart}:${port}`;
  // Under Agones the GameServer says who and where this server is (docs/deploy.md).
  // Its SDK (gRPC, protobuf: ~7 MB of heap) is loaded only under Agones.
  const agones = config.agones
    ? await (await import('./agones/agones-lifecycle.ts')).AgonesLifecycle.connect({
        logger,
        intervalMs: config.agonesHealthIntervalMs,
        tickStallMs: config.agonesTickStallMs,
      }).catch(async (err: unknown) => {
        await app.close();
        throw err;
      })
    : null;
  const endpoint =
    agones?.identity.endpoint || config.publicUrl || `ws://${hostPart}:${port}${CLIENT_WS_PATH}`;
  const serverId = config.serverId || agones?.identity.name || `ds-${port}`;
  const log = logger.child({ serverId });

  verifier = new TicketVerifier(serverId, wallClock);
  const ticketVerifier = verifier;
  const replay = new ReplayCache(config.replayCacheMax, wallClock);
  const prefetchedRecords = new PrefetchedRecords(now);
  const stats = new ReplicationStats(now);
  const resumeTokens = new ResumeTokens(config.clusterSecret, wallClock);
  let nextClientId = 1;
  const allocateClientId = () => nextClientId++;

  // Built below; the host reaches them through these closures only after start-up.
  let playerSync: PlayerSync | null = null;
  let analytics: AnalyticsBuffer | null = null;
  let checkpointer: Checkpointer | null = null;

  const playgrounds = new PlaygroundHost({
    capacity: config.capacity,
    maxBufferedBytes: config.maxBufferedBytes,
    slowConsumerGraceMs: config.slowConsumerGraceMs,
    playgroundIdleMs: config.playgroundIdleMs,
    logger: log,
    metrics,
    replay,
    now,
    wallClock,
    types,
    maxSpeedMps: config.maxSpeedMps,
    interest: {
      radiusM: config.interestRadiusM,
      hysteresisM: config.interestHysteresisM,
      cellSizeM: config.interestCellSizeM,
      fullRateM: config.interestFullRateM,
      farPeriodTicks: config.interestFarPeriodTicks,
    },
    stats,
    resumeGraceMs: config.resumeGraceMs,
    resumeTokens,
    allocateClientId,
    refuseNew: () => draining !== null,
    onTicketRedeemed: (jti, playgroundId) => links?.ticketRedeemed(jti, playgroundId),
    onRetire: (room) => checkpointer?.retire(room),
    cluster: {
      claim: async (playgroundId) => {
        try {
          return await controlLinks().rpc.call(
            'checkpoints.claim',
            { serverId, playgroundId },
            { timeoutMs: CLAIM_TIMEOUT_MS, retry: true },
          );
        } catch (err) {
          metrics.controlRpcErrors.inc({ method: 'checkpoints.claim' });
          throw err;
        }
      },
      playerJoin: (userId, playgroundId) =>
        playerSync ? playerSync.join(userId, playgroundId) : Promise.resolve(null),
      prefetchedRecord: (jti, userId, playgroundId) => prefetchedRecords.take(jti, userId, playgroundId),
      recordArrival: (jti, userId, playgroundId) => prefetchedRecords.arrival(jti, userId, playgroundId),
      playerLeave: (playgroundId, presence, avatar) => playerSync?.leave(playgroundId, presence, avatar),
      publish: async (params) => {
        try {
          return await controlLinks().rpc.call('events.publish', params, { timeoutMs: PUBLISH_TIMEOUT_MS });
        } catch (err) {
          metrics.controlRpcErrors.inc({ method: 'events.publish' });
          log.debug({ err: (err as Error).message, type: params.type }, 'event not published');
          return null;
        }
      },
      record: (event) => analytics?.record(event),
      logicError: (playgroundId, hook) => analytics?.logicError(playgroundId, hook),
    },
  });
  host = playgrounds;

  const gateway = new WsGateway({
    server: app.server,
    maxFrameBytes: config.maxFrameBytes,
    logger: log,
    allocateClientId,
    context: {
      config,
      serverId,
      metrics,
      verifier: ticketVerifier,
      limits: new AddressLimits(config.maxSocketsPerAddress, config.maxPendingHandshakesPerAddress),
      joinGate: (): ErrorName | null => {
        if (draining || closing) return 'PROTOCOL_SHUTTING_DOWN';
        if (!ticketVerifier.ready) return 'PROTOCOL_NOT_READY';
        return null;
      },
      admit: (conn, ticket) => playgrounds.admit(conn, ticket),
      input: (conn, frame) => playgrounds.input(conn, frame),
      leave: (conn, kind) => playgrounds.leave(conn, kind),
      joinRefused: (name, ticket) =>
        analytics?.record({
          type: 'refused',
          at: wallClock(),
          ...(ticket ? { userId: ticket.sub, playgroundId: ticket.pg } : {}),
          data: { reason: name },
        }),
      now,
      wallClock,
    },
  });

  let lastTickAtMs = now();
  const loop = new TickLoop(
    config.tickRateHz,
    () => {
      const started = performance.now();
      lastTickAtMs = now();
      playgrounds.tick();
      const ms = performance.now() - started;
      playgrounds.recordTickMs(ms);
      metrics.tickDuration.observe(ms / 1000);
      metrics.tickBytesOut.observe(stats.endTick(ms));
    },
    now,
    options.scheduler,
  );
  loop.start();

  const events = new EventRelay(playgrounds, metrics, log);
  let lastCpu = process.cpuUsage();
  let lastCpuAt = now();
  links = new BalancerLinks({
    balancerUrls: config.balancerUrl,
    clusterSecret: config.clusterSecret,
    logger: log,
    verifier: ticketVerifier,
    onPlayerRecord: (msg) => prefetchedRecords.put(msg),
    loadIntervalMs: config.loadIntervalMs,
    reconnectMinMs: config.reconnectMinMs,
    reconnectMaxMs: config.reconnectMaxMs,
    registerMessage: () => ({
      type: 'register',
      serverId,
      endpoint,
      capacity: config.capacity,
      version: PACKAGE_VERSION,
      protocolVersion: CONTROL_PROTOCOL_VERSION,
      playgrounds: playgrounds.playgroundLoads(),
    }),
    loadReport: (): LoadMessage => {
      const cpu = process.cpuUsage(lastCpu);
      const at = now();
      const elapsedUs = Math.max(1, (at - lastCpuAt) * 1000);
      lastCpu = process.cpuUsage();
      lastCpuAt = at;
      return {
        type: 'load',
        players: playgrounds.playerCount,
        playgrounds: playgrounds.playgroundLoads(),
        cpu: (cpu.user + cpu.system) / elapsedUs,
        tickMs: playgrounds.takeMeanTickMs(),
        checkpointLagMs: playgrounds.checkpointLagMs(),
        entities: playgrounds.entityCount,
        clients: playgrounds.playerCount,
        draining: draining !== null,
        ...stats.takeReport(),
      };
    },
    onCommand: (command) => {
      log.info({ command }, 'drain requested by the balancer');
      void drain().then(() => (options.onDrained ? options.onDrained() : close()));
    },
    onRelease: (playgroundId) => playgrounds.release(playgroundId, 'released by the balancer'),
    onEvent: (event) => events.deliver(event),
  });
  const controlLinks = (): BalancerLinks => links as BalancerLinks;
  const rpc = links.rpc;

  playerSync = new PlayerSync({ rpc, host: playgrounds, serverId, wallClock, logger: log, metrics });
  analytics = new AnalyticsBuffer({ rpc, host: playgrounds, serverId, wallClock, logger: log, metrics });
  checkpointer = new Checkpointer({
    host: playgrounds,
    rpc,
    serverId,
    intervalMs: config.checkpointMs,
    logger: log,
    metrics,
    now,
    onStale: (room) => playgrounds.release(room.playground.id, 'a newer holder fenced this server off', room),
  });
  const drainer = new Drainer({
    host: playgrounds,
    rpc,
    checkpointer,
    resumeTokens,
    serverId,
    drainTimeoutMs: config.drainTimeoutMs,
    logger: log,
    metrics,
  });
  const services = { playerSync, analytics, checkpointer };
  services.playerSync.start();
  services.analytics.start();
  services.checkpointer.start();
  links.start();
  agones?.start({
    registered: () => controlLinks().isRegistered && draining === null,
    hosting: () => playgrounds.playgroundCount > 0,
    lastTickAtMs: () => lastTickAtMs,
    now,
  });
  const reclaim = startIdleReclaim(
    {
      growthBytes: config.reclaimGrowthMb * 2 ** 20,
      quietS: config.reclaimQuietS,
      minIntervalS: config.reclaimMinIntervalS,
    },
    log,
    () => metrics.memoryReclaims.inc(),
  );

  const drain = (): Promise<void> => {
    draining ??= (async () => {
      // Yield once so `draining` is assigned first: the load report below must say draining.
      await Promise.resolve();
      log.info({ playgrounds: playgrounds.playgroundCount, clients: playgrounds.playerCount }, 'draining');
      // The balancers place nothing new here from now on.
      controlLinks().sendLoad();
      await drainer.drainAll();
      await Promise.race([
        Promise.all([services.analytics.flush(), services.playerSync.flushLeaves()]),
        new Promise((resolve) => setTimeout(resolve, FINAL_FLUSH_MS).unref()),
      ]);
      log.info('drained');
    })();
    return draining;
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await drain();
      log.info('closing');
      gateway.stopAccepting();
      await gateway.close();
      loop.stop();
      reclaim?.stop();
      services.checkpointer.stop();
      services.playerSync.stop();
      services.analytics.stop();
      playgrounds.disposeAll();
      await controlLinks().close();
      await app.close();
      // Last: Agones deletes the pod on Shutdown, and a second SIGTERM would cut this close short.
      await agones?.shutdown();
    })();
    return closing;
  };

  logger.info({ url, endpoint, serverId, balancers: config.balancerUrl.length }, 'listening');
  return { url, endpoint, serverId, drain, close };
}
