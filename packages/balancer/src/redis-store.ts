import { AppError } from '@plexus/kit';
import type { PlaygroundLoad } from '@plexus/protocol';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  type ClusterStore,
  type CommitOutcome,
  DEAD_SERVERS_KEPT,
  type DeadServer,
  identityOf,
  type LoadReport,
  type LossOutcome,
  ORPHAN_MEMORY_MS,
  type PlacementCommit,
  type PlaceOutcome,
  type PlaceRequest,
  type Release,
  type ServerIdentity,
  type ServerView,
  type StoreSnapshot,
} from './cluster-store.ts';
import {
  COMMIT_SCRIPT,
  DRAIN_SCRIPT,
  HOME_SCRIPT,
  LIST_SCRIPT,
  LOSE_SCRIPT,
  REDEEM_SCRIPT,
  REFRESH_SCRIPT,
  REPORT_SCRIPT,
  SNAPSHOT_SCRIPT,
} from './redis-scripts.ts';
import { placeInStore } from './store-placement.ts';

/** Key prefix of everything the balancers keep in Redis. */
export const REDIS_PREFIX = 'plexus:';
/** Timeout of one Redis command: past it, the request fails with LB_STATE_UNAVAILABLE. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

const SCRIPTS = {
  plexusReport: REPORT_SCRIPT,
  plexusSnapshot: SNAPSHOT_SCRIPT,
  plexusCommit: COMMIT_SCRIPT,
  plexusRedeem: REDEEM_SCRIPT,
  plexusLose: LOSE_SCRIPT,
  plexusRefresh: REFRESH_SCRIPT,
  plexusDrain: DRAIN_SCRIPT,
  plexusHome: HOME_SCRIPT,
  plexusList: LIST_SCRIPT,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Arg = string | number;

export interface RedisStoreOptions {
  url: string;
  lbId: string;
  /** How long entries live without a refresh (a balancer that dies stops refreshing its servers). */
  ttlMs: number;
  logger: Logger;
  now?: () => number;
  prefix?: string;
}

/**
 * Cluster state in Redis, shared by several balancers. Every mutation is one Lua script, so it is
 * atomic across balancers: a placement commits only if no other write landed since its snapshot
 * (a revision compare-and-set), so two balancers placing one new playground place it once and a
 * seat is reserved only where the decision saw room; a server is declared dead once. Entries expire when no balancer refreshes
 * them. When Redis is unreachable every call fails fast with LB_STATE_UNAVAILABLE (503); the client
 * reconnects by itself and calls work again once Redis is back.
 */
export class RedisClusterStore implements ClusterStore {
  readonly mode = 'redis';
  readonly #redis: Redis;
  readonly #lbId: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #prefix: string;
  readonly #logger: Logger;

  private constructor(redis: Redis, options: RedisStoreOptions) {
    this.#redis = redis;
    this.#lbId = options.lbId;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
    this.#prefix = options.prefix ?? REDIS_PREFIX;
    this.#logger = options.logger;
  }

  /**
   * Connects (waiting up to `readyTimeoutMs` for the first connection, without failing: a balancer
   * starts while Redis is down and works once it is up).
   */
  static async connect(options: RedisStoreOptions, readyTimeoutMs = 3_000): Promise<RedisClusterStore> {
    const redis = createRedisConnection(options.url, options.logger, 'state');
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    await waitReady(redis, readyTimeoutMs);
    return new RedisClusterStore(redis, options);
  }

  /** The connection, for the pub/sub bus to publish on. */
  get connection(): Redis {
    return this.#redis;
  }

  get prefix(): string {
    return this.#prefix;
  }

  async register(server: ServerIdentity, playgrounds: PlaygroundLoad[]): Promise<Release[]> {
    return this.#report('register', server, playgrounds, {});
  }

  async report(server: ServerIdentity, load: LoadReport): Promise<Release[]> {
    return this.#report('report', server, load.playgrounds, {
      players: load.players,
      cpu: load.cpu,
      tickMs: load.tickMs,
      entities: load.entities ?? 0,
      bytesOutPerSec: load.bytesOutPerSec ?? 0,
      tickP50Ms: load.tickP50Ms ?? 0,
      tickP99Ms: load.tickP99Ms ?? 0,
      checkpointLagMs: load.checkpointLagMs ?? 0,
      backpressureSkips: load.backpressureSkips ?? 0,
      draining: load.draining === true,
    });
  }

  async redeem(serverId: string, jti: string, playgroundId: string): Promise<boolean> {
    const member = `${jti} ${playgroundId}`;
    return (await this.#run('plexusRedeem', [serverId, member, this.#now(), this.#lbId, this.#ttlMs])) === 1;
  }

  async lose(serverId: string, reason: string): Promise<LossOutcome> {
    const raw = await this.#run('plexusLose', [
      serverId,
      this.#lbId,
      this.#now(),
      reason,
      DEAD_SERVERS_KEPT,
      ORPHAN_MEMORY_MS,
    ]);
    const parsed = JSON.parse(String(raw)) as { dead: boolean; dropped?: unknown };
    return { dead: parsed.dead, dropped: Array.isArray(parsed.dropped) ? parsed.dropped.map(String) : [] };
  }

  async refresh(serverIds: readonly string[]): Promise<void> {
    if (serverIds.length === 0) return;
    await this.#run('plexusRefresh', [this.#lbId, this.#now(), this.#ttlMs, ...serverIds]);
  }

  async setDraining(serverId: string): Promise<boolean> {
    return (await this.#run('plexusDrain', [serverId])) === 1;
  }

  async place(request: PlaceRequest): Promise<PlaceOutcome> {
    return placeInStore(this, request);
  }

  async snapshot(playgroundId: string, holder: string | undefined): Promise<StoreSnapshot> {
    return parseSnapshot(await this.#run('plexusSnapshot', [playgroundId, this.#now(), holder ?? '']));
  }

  async commit(decision: PlacementCommit): Promise<CommitOutcome> {
    const now = this.#now();
    // The mapping outlives its tickets, so a playground whose first user is still connecting is
    // not placed a second time.
    const mapTtl = Math.max(this.#ttlMs, decision.expiresAtMs - now + this.#ttlMs);
    const committed = (await this.#run('plexusCommit', [
      decision.serverRevision,
      decision.holdRevision,
      decision.home ?? '',
      decision.playgroundId,
      decision.serverId,
      decision.sticky ? '1' : '0',
      mapTtl,
      decision.expiresAtMs,
      decision.holder ?? '',
      ...decision.jtis,
    ])) as [string, string?, number?];
    if (committed[0] !== 'ok') {
      this.#logger.debug(
        { playgroundId: decision.playgroundId, serverId: decision.serverId },
        'placement snapshot went stale (another write landed first); deciding again',
      );
      return { ok: false };
    }
    return { ok: true, endpoint: String(committed[1]), replaced: committed[2] === 1 };
  }

  async releaseSeats(serverId: string, playgroundId: string, jtis: readonly string[]): Promise<void> {
    if (jtis.length === 0) return;
    await this.#call(() =>
      this.#redis.zrem(`${this.#prefix}seats:${serverId}`, ...jtis.map((jti) => `${jti} ${playgroundId}`)),
    );
  }

  async homeOf(playgroundId: string): Promise<string | undefined> {
    const home = String(await this.#run('plexusHome', [playgroundId, this.#now()]));
    return home === '' ? undefined : home;
  }

  async get(serverId: string): Promise<ServerView | undefined> {
    return this.#list([serverId]).then((views) => views[0]);
  }

  async list(): Promise<ServerView[]> {
    return (await this.#list([])).sort((a, b) => (a.serverId < b.serverId ? -1 : 1));
  }

  async deadServers(): Promise<DeadServer[]> {
    const raw = await this.#call(() => this.#redis.lrange(`${this.#prefix}dead`, 0, DEAD_SERVERS_KEPT - 1));
    return raw.map((line) => JSON.parse(line) as DeadServer);
  }

  async close(): Promise<void> {
    await closeConnection(this.#redis);
  }

  async #report(
    mode: 'register' | 'report',
    server: ServerIdentity,
    playgrounds: PlaygroundLoad[],
    load: object,
  ): Promise<Release[]> {
    return releasesOf(
      await this.#run('plexusReport', [
        server.serverId,
        this.#lbId,
        this.#now(),
        this.#ttlMs,
        mode,
        JSON.stringify(identityOf(server)),
        JSON.stringify(playgrounds),
        JSON.stringify(load),
      ]),
    );
  }

  async #list(only: string[]): Promise<ServerView[]> {
    const raw = String(await this.#run('plexusList', [this.#now(), ...only]));
    const rows = JSON.parse(raw) as unknown;
    if (!Array.isArray(rows)) return [];
    return rows.map((row) => {
      const [serverId, flat, pending, balancers] = row as [string, string[], number, unknown];
      const h = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) h.set(flat[i] as string, flat[i + 1] as string);
      const num = (key: string) => Number(h.get(key) ?? 0);
      return {
        serverId,
        endpoint: h.get('endpoint') ?? '',
        capacity: num('capacity'),
        version: h.get('version') ?? '',
        protocolVersion: num('protocolVersion'),
        players: num('players'),
        playgrounds: JSON.parse(h.get('playgrounds') ?? '[]') as PlaygroundLoad[],
        cpu: num('cpu'),
        tickMs: num('tickMs'),
        entities: num('entities'),
        bytesOutPerSec: num('bytesOutPerSec'),
        tickP50Ms: num('tickP50Ms'),
        tickP99Ms: num('tickP99Ms'),
        checkpointLagMs: num('checkpointLagMs'),
        backpressureSkips: num('backpressureSkips'),
        draining: h.get('draining') === '1',
        pending,
        registeredAtMs: num('registeredAt'),
        lastReportAtMs: num('lastReportAt'),
        balancers: Array.isArray(balancers) ? balancers.map(String).sort() : [],
      };
    });
  }

  #run(script: ScriptName, args: Arg[]): Promise<unknown> {
    const command = (this.#redis as unknown as Record<ScriptName, (...a: Arg[]) => Promise<unknown>>)[script];
    return this.#call(() => command.call(this.#redis, this.#prefix, ...args));
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new AppError('LB_STATE_UNAVAILABLE', undefined, { cause: err });
    }
  }
}

/**
 * An ioredis connection that fails commands at once while disconnected (no offline queue: a join
 * must not wait for Redis to come back) and reconnects forever with a capped backoff.
 */
export function createRedisConnection(url: string, logger: Logger, role: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    lazyConnect: false,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    // ioredis repeats the error on every reconnection attempt: log the transition only.
    if (down) return;
    down = true;
    logger.error({ err, role }, 'redis unreachable; joins fail with LB_STATE_UNAVAILABLE until it returns');
  });
  redis.on('ready', () => {
    if (down) logger.info({ role }, 'redis reachable again');
    down = false;
  });
  return redis;
}

export async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

function waitReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

function releasesOf(raw: unknown): Release[] {
  const flat = Array.isArray(raw) ? raw.map(String) : [];
  const releases: Release[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    releases.push({ playgroundId: flat[i] as string, serverId: flat[i + 1] as string });
  }
  return releases;
}

function parseSnapshot(raw: unknown): StoreSnapshot {
  const parsed = JSON.parse(String(raw)) as {
    home: string;
    held: number;
    holdRevision: number;
    servers: unknown;
  };
  // cjson encodes an empty Lua table as an object, not an array.
  const rows = Array.isArray(parsed.servers)
    ? (parsed.servers as [string, number, number, number, boolean, number][])
    : [];
  return {
    home: parsed.home || undefined,
    held: parsed.held,
    holdRevision: parsed.holdRevision,
    servers: rows.map(([serverId, capacity, players, pending, draining, revision]) => ({
      serverId,
      capacity,
      players,
      pending,
      draining,
      revision,
    })),
  };
}
