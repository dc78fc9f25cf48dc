import { cfg, DEV_SECRETS, loadConfig, refuseDevSecrets, z } from '@plexus/kit';
import { DEFAULT_PLAYGROUND_TYPE, parseTypeMap } from './playground/type-registry.ts';

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
  /**
   * Base URL of every balancer to connect to (comma-separated in the environment, an array in a
   * file): the server registers with each, reports load to each and accepts tickets from each.
   */
  balancerUrl: z
    .union([z.string(), z.array(z.string())])
    .default('http://127.0.0.1:8080')
    .transform((v) =>
      (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s.length > 0),
    )
    .pipe(
      z
        .array(z.url({ protocol: /^https?$/ }))
        .min(1)
        .max(16),
    ),
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
  /** Area of interest: an entity enters a client's view within this horizontal distance. */
  interestRadiusM: cfg.number(100, 1, 20_000),
  /** …and leaves it beyond radius + hysteresis (no flicker at the edge). */
  interestHysteresisM: cfg.number(10, 0, 20_000),
  /** Side of the interest grid's cells, whole metres (≤ 16 keeps positions at 2 bytes per axis). */
  interestCellSizeM: cfg.int(16, 1, 10_000),
  /** Cells within this distance of an avatar come every tick; farther ones less often. */
  interestFullRateM: cfg.number(25, 1, 20_000),
  /** The slowest update rate of far cells, ticks: 1, 2, 4, 8 or 16 (1 = everything every tick). */
  interestFarPeriodTicks: cfg.int(4, 1, 16).refine((v) => (v & (v - 1)) === 0, 'must be 1, 2, 4, 8 or 16'),
  /** Every hosted playground is checkpointed this often when something changed (ms). */
  checkpointMs: cfg.int(1_000, 50, 600_000),
  /** A dropped user's avatar and owned entities wait this long for a resume (0: despawn at once). */
  resumeGraceMs: cfg.int(15_000, 0, 3_600_000),
  /** On drain, clients told to move get this long to go before they are closed with 1001. */
  drainTimeoutMs: cfg.int(10_000, 0, 600_000),
  /**
   * Resident memory grown by this much (MiB) since the last reclaim calls for a memory-reducing GC
   * once the server is quiet (docs/operations.md, "Memory of a dedicated server"); 0: never.
   */
  reclaimGrowthMb: cfg.int(16, 0, 1_048_576),
  /** Quiet seconds in a row (event loop busy under 25 % of the time) before such a reclaim. */
  reclaimQuietS: cfg.int(5, 1, 3_600),
  /** Fewest seconds between two reclaims. */
  reclaimMinIntervalS: cfg.int(60, 1, 86_400),
  /** Modules default-exporting a PlaygroundType (paths relative to the working directory, or packages). */
  playgroundTypes: z
    .union([z.array(z.string().min(1)), z.string()])
    .default([])
    .transform((v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : v,
    ),
  /** Which type each playground id gets: `pattern=type,…` (a trailing `*` makes a prefix); first match wins. */
  playgroundTypeMap: z
    .union([z.string(), z.record(z.string(), z.string())])
    .default('')
    .transform((v, ctx) => {
      try {
        return parseTypeMap(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** The type of playgrounds no rule of the map matches. */
  defaultPlaygroundType: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .default(DEFAULT_PLAYGROUND_TYPE),
  /** Run as an Agones GameServer (docs/deploy.md): endpoint and id from the GameServer, SDK lifecycle. */
  agones: cfg.bool(false),
  /** Agones: health ping and state check interval; well under the Fleet's `health.periodSeconds`. */
  agonesHealthIntervalMs: cfg.int(2_000, 10, 60_000),
  /** Agones: no tick for this long stops the health pings, so Agones replaces the wedged server. */
  agonesTickStallMs: cfg.int(3_000, 100, 600_000),
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
  interestRadiusM: 'PLEXUS_DS_INTEREST_RADIUS_M',
  interestHysteresisM: 'PLEXUS_DS_INTEREST_HYSTERESIS_M',
  interestCellSizeM: 'PLEXUS_DS_INTEREST_CELL_SIZE_M',
  interestFullRateM: 'PLEXUS_DS_INTEREST_FULL_RATE_M',
  interestFarPeriodTicks: 'PLEXUS_DS_INTEREST_FAR_PERIOD_TICKS',
  checkpointMs: 'PLEXUS_CHECKPOINT_MS',
  resumeGraceMs: 'PLEXUS_DS_RESUME_GRACE_MS',
  drainTimeoutMs: 'PLEXUS_DS_DRAIN_TIMEOUT_MS',
  reclaimGrowthMb: 'PLEXUS_DS_RECLAIM_GROWTH_MB',
  reclaimQuietS: 'PLEXUS_DS_RECLAIM_QUIET_S',
  reclaimMinIntervalS: 'PLEXUS_DS_RECLAIM_MIN_INTERVAL_S',
  playgroundTypes: 'PLEXUS_DS_PLAYGROUND_TYPES',
  playgroundTypeMap: 'PLEXUS_DS_PLAYGROUND_TYPE_MAP',
  defaultPlaygroundType: 'PLEXUS_DS_DEFAULT_PLAYGROUND_TYPE',
  agones: 'PLEXUS_AGONES',
  agonesHealthIntervalMs: 'PLEXUS_DS_AGONES_HEALTH_INTERVAL_MS',
  agonesTickStallMs: 'PLEXUS_DS_AGONES_TICK_STALL_MS',
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
