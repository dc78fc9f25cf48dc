import { cfg, DEV_SECRETS, loadConfig, refuseDevSecrets, z } from '@plexus/kit';

const schema = z.object({
  host: cfg.string('127.0.0.1'),
  port: cfg.port(8100),
  /** Defaults to `ds-<bound port>` when empty. */
  serverId: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_.-]*$/)
    .default(''),
  /** Public WebSocket URL clients connect to; defaults to ws://<host>:<bound port>/ws when empty. */
  publicUrl: z.union([z.literal(''), z.url({ protocol: /^wss?$/ })]).default(''),
  balancerUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  clusterSecret: z.string().min(16).default(DEV_SECRETS.clusterSecret),
  capacity: cfg.int(200, 1, 100_000),
  tickRateHz: cfg.int(20, 1, 120),
  logLevel: cfg.logLevel(),
  handshakeTimeoutMs: cfg.int(5_000, 1, 60_000),
  idleTimeoutMs: cfg.int(15_000, 1, 600_000),
  maxFrameBytes: cfg.int(64 * 1024, 64, 1024 * 1024),
  rateLimitPerSec: cfg.number(60, 1, 10_000),
  rateLimitBurst: cfg.int(120, 1, 100_000),
  maxPendingHandshakesPerAddress: cfg.int(16, 1, 100_000),
  maxSocketsPerAddress: cfg.int(64, 1, 100_000),
  maxBufferedBytes: cfg.int(256 * 1024, 1024, 64 * 1024 * 1024),
  slowConsumerGraceMs: cfg.int(5_000, 1, 600_000),
  maxSpeedMps: cfg.number(50, 0.1, 100_000),
  playgroundIdleMs: cfg.int(30_000, 0, 86_400_000),
  loadIntervalMs: cfg.int(1_000, 10, 60_000),
  reconnectMinMs: cfg.int(250, 1, 60_000),
  reconnectMaxMs: cfg.int(5_000, 1, 600_000),
  replayCacheMax: cfg.int(100_000, 1, 10_000_000),
});

export type ServerConfig = z.output<typeof schema>;
export type ServerConfigInput = z.input<typeof schema>;

/** Environment variable of each config key (docs/config.md). */
export const SERVER_ENV = {
  host: 'PLEXUS_DS_HOST',
  port: 'PLEXUS_DS_PORT',
  serverId: 'PLEXUS_DS_ID',
  publicUrl: 'PLEXUS_DS_PUBLIC_URL',
  balancerUrl: 'PLEXUS_BALANCER_URL',
  clusterSecret: 'PLEXUS_CLUSTER_SECRET',
  capacity: 'PLEXUS_DS_CAPACITY',
  tickRateHz: 'PLEXUS_TICK_RATE_HZ',
  logLevel: 'PLEXUS_LOG_LEVEL',
  handshakeTimeoutMs: 'PLEXUS_DS_HANDSHAKE_TIMEOUT_MS',
  idleTimeoutMs: 'PLEXUS_DS_IDLE_TIMEOUT_MS',
  maxFrameBytes: 'PLEXUS_DS_MAX_FRAME_BYTES',
  rateLimitPerSec: 'PLEXUS_DS_RATE_LIMIT_PER_SEC',
  rateLimitBurst: 'PLEXUS_DS_RATE_LIMIT_BURST',
  maxPendingHandshakesPerAddress: 'PLEXUS_DS_MAX_PENDING_HANDSHAKES_PER_ADDRESS',
  maxSocketsPerAddress: 'PLEXUS_DS_MAX_SOCKETS_PER_ADDRESS',
  maxBufferedBytes: 'PLEXUS_DS_MAX_BUFFERED_BYTES',
  slowConsumerGraceMs: 'PLEXUS_DS_SLOW_CONSUMER_GRACE_MS',
  maxSpeedMps: 'PLEXUS_DS_MAX_SPEED_MPS',
  playgroundIdleMs: 'PLEXUS_DS_PLAYGROUND_IDLE_MS',
  loadIntervalMs: 'PLEXUS_DS_LOAD_INTERVAL_MS',
  reconnectMinMs: 'PLEXUS_DS_RECONNECT_MIN_MS',
  reconnectMaxMs: 'PLEXUS_DS_RECONNECT_MAX_MS',
  replayCacheMax: 'PLEXUS_DS_REPLAY_CACHE_MAX',
} as const satisfies Record<keyof ServerConfigInput, string>;

/**
 * The dedicated server's configuration: defaults < JSON file (PLEXUS_CONFIG_FILE) < environment <
 * flags. Throws ConfigError naming the bad key.
 */
export function loadServerConfig(
  environment: Record<string, string | undefined>,
  flags?: Partial<ServerConfigInput>,
): ServerConfig {
  const config = loadConfig({
    schema,
    env: SERVER_ENV,
    environment,
    file: environment.PLEXUS_CONFIG_FILE,
    ...(flags ? { flags } : {}),
  });
  refuseDevSecrets(
    { clusterSecret: config.clusterSecret },
    { clusterSecret: SERVER_ENV.clusterSecret },
    environment,
  );
  return config;
}
