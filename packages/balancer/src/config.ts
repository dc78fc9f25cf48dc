import { ConfigError, cfg, DEV_SECRETS, loadConfig, refuseDevSecrets, z } from '@plexus/kit';

const balancerConfigSchema = z.object({
  host: cfg.string('127.0.0.1'),
  port: cfg.port(8080),
  /** Base URL of the backend server (authCheck, matchmaking, proxied client RPCs). */
  backendUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8081'),
  partnerKey: z.string().min(16).default(DEV_SECRETS.partnerKey),
  clusterSecret: z.string().min(16).default(DEV_SECRETS.clusterSecret),
  /** Key of the admin routes (`/lb/api/v0/admin/*`, `Authorization: Bearer`). */
  operatorKey: z.string().min(16).default(DEV_SECRETS.operatorKey),
  /** `redis://…` shares the registry, playground map and seats with other balancers; unset = in memory. */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** This balancer's id among several (Redis mode); default `lb-<port>` (`lb-<random>` for port 0). */
  lbId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -')
    .optional(),
  /** Lifetime of a join ticket and of the seat it reserves; at most 30 s (docs/operations.md "Limits"). */
  ticketTtlMs: cfg.int(30_000, 1_000, 30_000),
  /** How long a successful authCheck is reused; 0 disables the cache. Bounds how late a logout is seen. */
  authCacheTtlMs: cfg.int(2_000, 0, 60_000),
  authCacheMaxEntries: cfg.int(10_000, 1, 1_000_000),
  /** Timeout of every call to the backend. */
  backendTimeoutMs: cfg.int(3_000, 100, 60_000),
  /** Optional directory served at `/` (the browser demo). */
  webRoot: z.string().min(1).optional(),
  /**
   * Origins (`https://host[:port]`) from which the world page may load a user's `avatar3D.avatarUrl`
   * (.glb); comma-separated in the environment. Empty: every avatar uses the default model.
   */
  webAvatarOrigins: z
    .union([z.string(), z.array(z.string())])
    .default([])
    .transform((v) =>
      (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s.length > 0),
    )
    .pipe(
      z
        .array(z.url({ protocol: /^https?$/ }).refine(isOrigin, 'must be an origin: scheme://host[:port]'))
        .max(64),
    )
    .transform((origins) => origins.map((o) => new URL(o).origin)),
  /** Largest avatar .glb the world page downloads; a larger one falls back to the default model. */
  webAvatarMaxBytes: cfg.int(4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
  /** WebSocket ping cadence on control sockets. */
  heartbeatIntervalMs: cfg.int(1_000, 10, 60_000),
  /** Missed pongs in a row after which a server is declared dead. */
  deadAfterMisses: cfg.int(3, 1, 100),
  /** A control socket must send `register` within this long. */
  registerTimeoutMs: cfg.int(5_000, 10, 60_000),
  /** TCP connections one source address may hold open (HTTP API and control sockets together). */
  maxConnectionsPerAddress: cfg.int(1_024, 1, 100_000),
  /** Unredeemed tickets (reserved seats) one user may hold at once, over all playgrounds. */
  maxHeldSeatsPerUser: cfg.int(3, 1, 1_000),
  /** Ticket requests (getEndpoint*) one session may make at once, then `joinRatePerSessionPerSec`. */
  joinBurstPerSession: cfg.int(10, 1, 100_000),
  joinRatePerSessionPerSec: cfg.number(1, 0.01, 100_000),
  /** Ticket requests one source address may make at once, then `joinRatePerAddressPerSec`. */
  joinBurstPerAddress: cfg.int(300, 1, 1_000_000),
  joinRatePerAddressPerSec: cfg.number(50, 0.01, 1_000_000),
  logLevel: cfg.logLevel(),
  /**
   * Where this balancer gets more dedicated servers: `agones` allocates from a Fleet (docs/deploy.md);
   * `none` leaves scaling to others (a FleetAutoscaler, `plexus dev`'s local provider).
   */
  serverProvider: z.enum(['none', 'agones']).default('none'),
  /** Agones: the namespace of the Fleet, where GameServerAllocations are created. */
  agonesNamespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name')
    .default('default'),
  /** Agones: the Fleet allocated from (selected by its `agones.dev/fleet` label). */
  agonesFleet: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a Kubernetes object name')
    .default('plexus-ds'),
  /** The most replicas the FleetAutoscaler webhook answers (docs/deploy.md#scaling). */
  agonesMaxReplicas: cfg.int(50, 1, 100_000),
  /** Allocate when fewer seats than this are free on the servers that take players. */
  autoscaleMinFreeSeats: cfg.int(50, 0, 10_000_000),
  /** Drain an idle allocated server when more seats than this are free. */
  autoscaleMaxFreeSeats: cfg.int(250, 1, 10_000_000),
  /** Most servers this balancer holds allocated. */
  autoscaleMaxServers: cfg.int(20, 1, 10_000),
  autoscaleIntervalMs: cfg.int(5_000, 50, 600_000),
  autoscaleCooldownMs: cfg.int(15_000, 0, 3_600_000),
});

/** True for a bare origin such as `https://cdn.example.com:8443` (no path, query or credentials). */
function isOrigin(url: string): boolean {
  try {
    return new URL(url).origin === url.replace(/\/$/, '');
  } catch {
    return false;
  }
}

export type BalancerConfig = z.output<typeof balancerConfigSchema>;
export type BalancerConfigInput = z.input<typeof balancerConfigSchema>;

/** Environment variable of each config key (docs/config.md). */
export const BALANCER_ENV = {
  host: 'PLEXUS_LB_HOST',
  port: 'PLEXUS_LB_PORT',
  backendUrl: 'PLEXUS_BACKEND_URL',
  partnerKey: 'PLEXUS_PARTNER_KEY',
  clusterSecret: 'PLEXUS_CLUSTER_SECRET',
  operatorKey: 'PLEXUS_OPERATOR_KEY',
  redisUrl: 'PLEXUS_REDIS_URL',
  lbId: 'PLEXUS_LB_ID',
  ticketTtlMs: 'PLEXUS_TICKET_TTL_MS',
  authCacheTtlMs: 'PLEXUS_AUTH_CACHE_TTL_MS',
  backendTimeoutMs: 'PLEXUS_LB_BACKEND_TIMEOUT_MS',
  webRoot: 'PLEXUS_WEB_ROOT',
  webAvatarOrigins: 'PLEXUS_WEB_AVATAR_ORIGINS',
  webAvatarMaxBytes: 'PLEXUS_WEB_AVATAR_MAX_BYTES',
  heartbeatIntervalMs: 'PLEXUS_LB_HEARTBEAT_MS',
  deadAfterMisses: 'PLEXUS_LB_DEAD_AFTER_MISSES',
  maxConnectionsPerAddress: 'PLEXUS_LB_MAX_CONNECTIONS_PER_ADDRESS',
  maxHeldSeatsPerUser: 'PLEXUS_LB_MAX_HELD_SEATS_PER_USER',
  joinBurstPerSession: 'PLEXUS_LB_JOIN_BURST_PER_SESSION',
  joinRatePerSessionPerSec: 'PLEXUS_LB_JOIN_RATE_PER_SESSION_PER_SEC',
  joinBurstPerAddress: 'PLEXUS_LB_JOIN_BURST_PER_ADDRESS',
  joinRatePerAddressPerSec: 'PLEXUS_LB_JOIN_RATE_PER_ADDRESS_PER_SEC',
  logLevel: 'PLEXUS_LOG_LEVEL',
  serverProvider: 'PLEXUS_SERVER_PROVIDER',
  agonesNamespace: 'PLEXUS_AGONES_NAMESPACE',
  agonesFleet: 'PLEXUS_AGONES_FLEET',
  agonesMaxReplicas: 'PLEXUS_AGONES_MAX_REPLICAS',
  autoscaleMinFreeSeats: 'PLEXUS_AUTOSCALE_MIN_FREE_SEATS',
  autoscaleMaxFreeSeats: 'PLEXUS_AUTOSCALE_MAX_FREE_SEATS',
  autoscaleMaxServers: 'PLEXUS_AUTOSCALE_MAX_SERVERS',
  autoscaleIntervalMs: 'PLEXUS_AUTOSCALE_INTERVAL_MS',
  autoscaleCooldownMs: 'PLEXUS_AUTOSCALE_COOLDOWN_MS',
} as const;

/**
 * Loads the balancer configuration: defaults < JSON file (`PLEXUS_CONFIG_FILE`) < environment < flags.
 * Throws ConfigError naming the bad key, or when a development secret is used in production.
 */
export function loadBalancerConfig(
  environment: Record<string, string | undefined>,
  flags?: Partial<BalancerConfigInput>,
): BalancerConfig {
  const config = loadConfig({
    schema: balancerConfigSchema,
    env: BALANCER_ENV,
    environment,
    file: environment.PLEXUS_CONFIG_FILE,
    ...(flags ? { flags } : {}),
  });
  if (config.autoscaleMaxFreeSeats <= config.autoscaleMinFreeSeats) {
    throw new ConfigError(
      `PLEXUS_AUTOSCALE_MAX_FREE_SEATS (${config.autoscaleMaxFreeSeats}) must be above PLEXUS_AUTOSCALE_MIN_FREE_SEATS (${config.autoscaleMinFreeSeats})`,
    );
  }
  refuseDevSecrets(
    { partnerKey: config.partnerKey, clusterSecret: config.clusterSecret, operatorKey: config.operatorKey },
    {
      partnerKey: BALANCER_ENV.partnerKey,
      clusterSecret: BALANCER_ENV.clusterSecret,
      operatorKey: BALANCER_ENV.operatorKey,
    },
    environment,
  );
  return config;
}
