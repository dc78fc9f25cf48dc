import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createHttpServer, type Logger } from '@plexus/kit';
import { CONTROL_PROTOCOL_VERSION, type ErrorName, type LoadMessage } from '@plexus/protocol';
import type { ServerConfig } from './config.ts';
import { ControlClient } from './control/control-client.ts';
import { ReplayCache } from './control/replay-cache.ts';
import { TicketVerifier } from './control/ticket-verifier.ts';
import { createServerMetrics } from './metrics.ts';
import { PlaygroundHost } from './playground/playground-host.ts';
import { type Scheduler, TickLoop } from './playground/tick-loop.ts';
import { loadPlaygroundTypeModules, PlaygroundTypes } from './playground/type-registry.ts';
import { ReplicationStats } from './replication/replication-stats.ts';
import { AddressLimits } from './transport/address-limits.ts';
import { CLIENT_WS_PATH, WsGateway } from './transport/ws-gateway.ts';

const PACKAGE_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

export interface StartServerOptions {
  logger: Logger;
  /** Called after a `shutdown` command drained and closed every client; the CLI exits the process. */
  onShutdownCommand?: () => void;
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
  close(): Promise<void>;
}

/**
 * Starts a dedicated server: HTTP (health, readiness, metrics) with the client WebSocket on `/ws`,
 * the tick loop over every hosted playground, and the control channel to the balancer.
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
  let control: ControlClient | null = null;
  let verifier: TicketVerifier | null = null;
  const metrics = createServerMetrics({
    clients: () => host?.playerCount ?? 0,
    playgrounds: () => host?.playgroundCount ?? 0,
    entities: () => host?.entityCount ?? 0,
  });
  const app = createHttpServer({
    logger,
    metrics,
    isReady: () => Boolean(verifier?.ready && control?.isRegistered && !draining),
  });
  let draining = false;
  let closing: Promise<void> | null = null;

  await app.listen({ host: config.host, port: config.port });
  const port = (app.server.address() as AddressInfo).port;
  const hostPart = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostPart}:${port}`;
  const endpoint = config.publicUrl || `ws://${hostPart}:${port}${CLIENT_WS_PATH}`;
  const serverId = config.serverId || `ds-${port}`;
  const log = logger.child({ serverId });

  verifier = new TicketVerifier(serverId, wallClock);
  const replay = new ReplayCache(config.replayCacheMax, wallClock);
  const stats = new ReplicationStats(now);
  const playgrounds = new PlaygroundHost({
    capacity: config.capacity,
    maxBufferedBytes: config.maxBufferedBytes,
    slowConsumerGraceMs: config.slowConsumerGraceMs,
    playgroundIdleMs: config.playgroundIdleMs,
    logger: log,
    metrics,
    replay,
    now,
    types,
    maxSpeedMps: config.maxSpeedMps,
    interest: {
      radiusM: config.interestRadiusM,
      hysteresisM: config.interestHysteresisM,
      cellSizeM: config.interestCellSizeM,
    },
    stats,
    onTicketRedeemed: (jti, playgroundId) => control?.ticketRedeemed(jti, playgroundId),
  });
  host = playgrounds;
  const ticketVerifier = verifier;

  const gateway = new WsGateway({
    server: app.server,
    maxFrameBytes: config.maxFrameBytes,
    logger: log,
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
      leave: (conn) => playgrounds.leave(conn),
      now,
      wallClock,
    },
  });

  const loop = new TickLoop(
    config.tickRateHz,
    () => {
      const started = performance.now();
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

  let lastCpu = process.cpuUsage();
  let lastCpuAt = now();
  control = new ControlClient({
    balancerUrl: config.balancerUrl,
    clusterSecret: config.clusterSecret,
    logger: log.child({ channel: 'control' }),
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
        entities: playgrounds.entityCount,
        clients: playgrounds.playerCount,
        ...stats.takeReport(),
      };
    },
    onRegistered: (msg) => ticketVerifier.setKey(msg.ticketKey),
    onCommand: (command) => {
      if (command === 'drain') {
        draining = true;
        log.info('draining: new joins are refused');
        return;
      }
      draining = true;
      log.info('shutdown command: closing every client');
      gateway.stopAccepting();
      void gateway.closeAll().then(() => {
        if (options.onShutdownCommand) options.onShutdownCommand();
        else void close();
      });
    },
  });
  control.start();

  const controlClient = control;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      log.info('closing');
      gateway.stopAccepting();
      await gateway.close();
      loop.stop();
      playgrounds.disposeAll();
      await controlClient.close();
      await app.close();
    })();
    return closing;
  };

  logger.info({ url, endpoint, serverId }, 'listening');
  return { url, endpoint, serverId, close };
}
