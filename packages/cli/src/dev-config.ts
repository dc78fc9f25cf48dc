import { ConfigError, cfg, DEV_SECRETS, loadConfig, z } from '@plexus/kit';

const schema = z.object({
  /** Dedicated servers started with the cluster; the autoscaler's minimum. */
  serverCount: cfg.int(2, 1, 64),
  /** The autoscaler's maximum; defaults to 4, or serverCount when larger. */
  serverMax: z.coerce.number().int().min(1).max(64).optional(),
  serverPortBase: cfg.port(8100),
  /** Ids are `<prefix>-<port>`. */
  serverIdPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/)
    .default('ds'),
  /** Where the servers bind, and so where free ports are probed. */
  serverHost: cfg.string('127.0.0.1'),
  /** Given to the backend and the balancer alike; the autoscaler drains with it. */
  operatorKey: z.string().min(16).default(DEV_SECRETS.operatorKey),
  /** The servers' PLEXUS_DS_DRAIN_TIMEOUT_MS (same default): how long a stopping server may take. */
  serverDrainTimeoutMs: cfg.int(10_000, 0, 600_000),
  autoscale: cfg.bool(true),
  minFreeSeats: cfg.int(50, 0, 10_000_000),
  maxFreeSeats: cfg.int(250, 1, 10_000_000),
  autoscaleIntervalMs: cfg.int(2_000, 50, 600_000),
  autoscaleCooldownMs: cfg.int(10_000, 0, 3_600_000),
  restartMinMs: cfg.int(250, 1, 600_000),
  restartMaxMs: cfg.int(10_000, 1, 3_600_000),
  restartResetAfterMs: cfg.int(30_000, 1, 86_400_000),
  restartMaxCrashes: cfg.int(5, 1, 1_000),
  logLevel: cfg.logLevel(),
});

export type DevClusterConfig = Omit<z.output<typeof schema>, 'serverMax'> & { serverMax: number };

/** Environment variable of each key (docs/config.md, "Development cluster"). */
export const DEV_CLUSTER_ENV = {
  serverCount: 'PLEXUS_DS_COUNT',
  serverMax: 'PLEXUS_DS_MAX',
  serverPortBase: 'PLEXUS_DS_PORT_BASE',
  serverIdPrefix: 'PLEXUS_DS_ID',
  serverHost: 'PLEXUS_DS_HOST',
  operatorKey: 'PLEXUS_OPERATOR_KEY',
  serverDrainTimeoutMs: 'PLEXUS_DS_DRAIN_TIMEOUT_MS',
  autoscale: 'PLEXUS_AUTOSCALE',
  minFreeSeats: 'PLEXUS_AUTOSCALE_MIN_FREE_SEATS',
  maxFreeSeats: 'PLEXUS_AUTOSCALE_MAX_FREE_SEATS',
  autoscaleIntervalMs: 'PLEXUS_AUTOSCALE_INTERVAL_MS',
  autoscaleCooldownMs: 'PLEXUS_AUTOSCALE_COOLDOWN_MS',
  restartMinMs: 'PLEXUS_RESTART_MIN_MS',
  restartMaxMs: 'PLEXUS_RESTART_MAX_MS',
  restartResetAfterMs: 'PLEXUS_RESTART_RESET_AFTER_MS',
  restartMaxCrashes: 'PLEXUS_RESTART_MAX_CRASHES',
  logLevel: 'PLEXUS_LOG_LEVEL',
} as const satisfies Record<keyof z.input<typeof schema>, string>;

/**
 * The dev cluster's own settings, from the environment only (a `--config` file holds component keys).
 * Throws ConfigError naming the bad variable.
 */
export function loadDevClusterConfig(environment: Record<string, string | undefined>): DevClusterConfig {
  const c = loadConfig({ schema, env: DEV_CLUSTER_ENV, environment });
  const serverMax = c.serverMax ?? Math.max(4, c.serverCount);
  if (serverMax < c.serverCount) {
    throw new ConfigError(`PLEXUS_DS_MAX (${serverMax}) must be at least PLEXUS_DS_COUNT (${c.serverCount})`);
  }
  if (c.maxFreeSeats <= c.minFreeSeats) {
    throw new ConfigError(
      `PLEXUS_AUTOSCALE_MAX_FREE_SEATS (${c.maxFreeSeats}) must be above PLEXUS_AUTOSCALE_MIN_FREE_SEATS (${c.minFreeSeats})`,
    );
  }
  if (c.restartMaxMs < c.restartMinMs) {
    throw new ConfigError(
      `PLEXUS_RESTART_MAX_MS (${c.restartMaxMs}) must be at least PLEXUS_RESTART_MIN_MS (${c.restartMinMs})`,
    );
  }
  return { ...c, serverMax };
}
