import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Thrown when configuration is invalid; the message names the offending key and its source. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadConfigOptions<S extends z.ZodObject> {
  schema: S;
  /** Config key → environment variable name (e.g. `port: 'PLEXUS_LB_PORT'`). */
  env: Partial<Record<keyof z.input<S> & string, string>>;
  /** The process environment (injected so tests control it). */
  environment: Record<string, string | undefined>;
  /** Path of a JSON file with config keys; read when given. */
  file?: string | undefined;
  /** Values from command-line flags; they win over everything else. */
  flags?: Partial<z.input<S>>;
}

/**
 * Parses configuration once at start-up: schema defaults < JSON file < environment < flags.
 * Environment values are strings; the schema coerces them (use the helpers below).
 */
export function loadConfig<S extends z.ZodObject>(options: LoadConfigOptions<S>): z.output<S> {
  const merged: Record<string, unknown> = {};
  const sourceOf: Record<string, string> = {};
  if (options.file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(options.file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${options.file}: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null)
      throw new ConfigError(`${options.file} is not an object`);
    for (const [k, v] of Object.entries(parsed)) {
      merged[k] = v;
      sourceOf[k] = options.file;
    }
  }
  for (const [key, name] of Object.entries(options.env) as [string, string][]) {
    const value = options.environment[name];
    if (value !== undefined && value !== '') {
      merged[key] = value;
      sourceOf[key] = name;
    }
  }
  for (const [k, v] of Object.entries(options.flags ?? {})) {
    if (v !== undefined) {
      merged[k] = v;
      sourceOf[k] = 'flag';
    }
  }
  const result = options.schema.strict().safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '');
      const from = sourceOf[String(issue.path[0])];
      return `${key}${from ? ` (from ${from})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return result.data as z.output<S>;
}

/** Schema helpers that accept both typed values (file, flags) and strings (environment). */
export const cfg = {
  port: (def: number) => z.coerce.number().int().min(0).max(65535).default(def),
  int: (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(def),
  number: (def: number, min = 0, max = Number.MAX_VALUE) => z.coerce.number().min(min).max(max).default(def),
  bool: (def: boolean) =>
    z
      .union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((s) => s === 'true' || s === '1')])
      .default(def),
  string: (def: string) => z.string().default(def),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export { z };

/** Development defaults of shared secrets; a process refuses them when NODE_ENV=production. */
export const DEV_SECRETS = {
  partnerKey: 'plexus-dev-partner-key',
  clusterSecret: 'plexus-dev-cluster-secret',
  operatorKey: 'plexus-dev-operator-key',
} as const;

/** The values NODE_ENV may take (or be unset); anything else stops start-up. */
export const NODE_ENVS = ['production', 'development', 'test'] as const;

/**
 * Stops start-up when a development default secret is configured in production, naming the
 * environment variable to set. NODE_ENV must be exactly one of NODE_ENVS or unset: a near miss
 * (`Production`, ` production`) would otherwise start a production deployment with the public
 * development keys (docs/config.md, "Production secrets").
 */
export function refuseDevSecrets(
  secrets: Partial<Record<keyof typeof DEV_SECRETS, string>>,
  envNames: Partial<Record<keyof typeof DEV_SECRETS, string>>,
  environment: Record<string, string | undefined>,
): void {
  const nodeEnv = environment.NODE_ENV;
  if (nodeEnv !== undefined && nodeEnv !== '' && !(NODE_ENVS as readonly string[]).includes(nodeEnv)) {
    throw new ConfigError(
      `NODE_ENV must be exactly one of ${NODE_ENVS.join(', ')} or unset, got ${JSON.stringify(nodeEnv)}`,
    );
  }
  if (nodeEnv !== 'production') return;
  for (const key of Object.keys(secrets) as (keyof typeof DEV_SECRETS)[]) {
    if (secrets[key] === DEV_SECRETS[key]) {
      throw new ConfigError(
        `${envNames[key] ?? key} must be set: the development default is refused in production`,
      );
    }
  }
}
