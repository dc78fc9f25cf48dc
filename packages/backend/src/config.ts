import { cfg, DEV_SECRETS, loadConfig, refuseDevSecrets, z } from '@plexus/kit';

const backendConfigSchema = z.object({
  host: cfg.string('127.0.0.1'),
  port: cfg.port(8081),
  /** Directory of the SQLite file `<dataDir>/plexus.db`; created when missing. */
  dataDir: z.string().min(1).default('./data'),
  partnerKey: z.string().min(16).default(DEV_SECRETS.partnerKey),
  /** Key of the operator RPCs (`/api/v0/operatorRpc/*`). */
  operatorKey: z.string().min(16).default(DEV_SECRETS.operatorKey),
  /** `postgres://…` selects PostgreSQL; unset keeps SQLite in `dataDir`. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** How long an event for an offline user waits for their next join. */
  eventInboxTtlMs: cfg.int(3_600_000, 1_000),
  /** A user's presence (for event delivery) lapses when their server has not refreshed it for this long. */
  presenceTtlMs: cfg.int(30_000, 1_000),
  sessionTtlMs: cfg.int(86_400_000, 1_000),
  /** Seats per auto-opened public playground (`public-<type>-<n>`; catalogue playgrounds set their own). */
  playgroundCapacity: cfg.int(50, 1, 100_000),
  /** How long a matchmaking seat counts towards a playground's population (no live occupancy yet). */
  matchmakingSeatTtlMs: cfg.int(600_000, 1_000),
  /**
   * How long a write waits for another connection's lock before failing (SQLite busy_timeout,
   * PostgreSQL lock_timeout).
   */
  dbBusyTimeoutMs: cfg.int(5_000, 0, 600_000),
  /** PostgreSQL connections of this backend (unused with SQLite). */
  dbPoolSize: cfg.int(10, 1, 1_000),
  /**
   * TCP connections one source address may hold open. Its callers are mostly balancers, each with a
   * connection pool that grows with concurrent joins, hence more room than on the balancer.
   */
  maxConnectionsPerAddress: cfg.int(4_096, 1, 100_000),
  logLevel: cfg.logLevel(),
});

export type BackendConfig = z.output<typeof backendConfigSchema>;
export type BackendConfigInput = z.input<typeof backendConfigSchema>;

/** Environment variable of each config key (docs/config.md). */
export const BACKEND_ENV = {
  host: 'PLEXUS_BACKEND_HOST',
  port: 'PLEXUS_BACKEND_PORT',
  dataDir: 'PLEXUS_DATA_DIR',
  partnerKey: 'PLEXUS_PARTNER_KEY',
  operatorKey: 'PLEXUS_OPERATOR_KEY',
  databaseUrl: 'PLEXUS_DATABASE_URL',
  eventInboxTtlMs: 'PLEXUS_EVENT_INBOX_TTL_MS',
  presenceTtlMs: 'PLEXUS_PRESENCE_TTL_MS',
  sessionTtlMs: 'PLEXUS_SESSION_TTL_MS',
  playgroundCapacity: 'PLEXUS_PLAYGROUND_CAPACITY',
  matchmakingSeatTtlMs: 'PLEXUS_MATCHMAKING_SEAT_TTL_MS',
  dbBusyTimeoutMs: 'PLEXUS_DB_BUSY_TIMEOUT_MS',
  dbPoolSize: 'PLEXUS_DB_POOL_SIZE',
  maxConnectionsPerAddress: 'PLEXUS_BACKEND_MAX_CONNECTIONS_PER_ADDRESS',
  logLevel: 'PLEXUS_LOG_LEVEL',
} as const;

/**
 * Loads the backend configuration: defaults < JSON file (`PLEXUS_CONFIG_FILE`) < environment < flags.
 * Throws ConfigError naming the bad key, or when the development partner key is used in production.
 */
export function loadBackendConfig(
  environment: Record<string, string | undefined>,
  flags?: Partial<BackendConfigInput>,
): BackendConfig {
  const config = loadConfig({
    schema: backendConfigSchema,
    env: BACKEND_ENV,
    environment,
    file: environment.PLEXUS_CONFIG_FILE,
    ...(flags ? { flags } : {}),
  });
  refuseDevSecrets(
    { partnerKey: config.partnerKey, operatorKey: config.operatorKey },
    { partnerKey: BACKEND_ENV.partnerKey, operatorKey: BACKEND_ENV.operatorKey },
    environment,
  );
  return config;
}
