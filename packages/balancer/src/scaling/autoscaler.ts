import { type Logger, z } from '@plexus/kit';
import { decideScale, type ScaleDecision, type ScalePolicy } from './scale-policy.ts';
import type { ServerProvider } from './server-provider.ts';

/** The balancer's operator view of its servers, and its admin drain route (docs/api.md). */
const SERVERS_PATH = '/lb/api/v0/servers';
const drainPath = (serverId: string) => `/lb/api/v0/admin/servers/${encodeURIComponent(serverId)}/drain`;

const serversResponse = z.object({
  data: z.object({
    servers: z
      .array(
        z.object({
          serverId: z.string(),
          capacity: z.number(),
          players: z.number(),
          pending: z.number(),
          draining: z.boolean(),
          playgrounds: z.array(z.unknown()),
        }),
      )
      .max(10_000),
  }),
});

export interface AutoscalerOptions {
  provider: ServerProvider;
  balancerUrl: string;
  /** PLEXUS_OPERATOR_KEY, for the balancer's admin drain route. */
  operatorKey: string;
  policy: ScalePolicy;
  intervalMs: number;
  logger: Logger;
  /** How long a drained server may take to leave by itself before the provider stops it. */
  drainGraceMs?: number;
  /** A started (or restarting) server not registered after this long no longer holds decisions. */
  registerGraceMs?: number;
  requestTimeoutMs?: number;
  now?: () => number;
}

/**
 * Keeps free capacity between two thresholds: every interval it reads the balancer's servers,
 * decides (decideScale) and starts a server through the provider, or drains one through the
 * balancer's admin route and then retires it at the provider. It runs beside any ServerProvider.
 */
export class Autoscaler {
  #o: AutoscalerOptions;
  #log: Logger;
  #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;
  #stopped = false;
  #lastActionAtMs: number | null = null;
  /** Servers being drained away: no longer counted, not drained twice. */
  #retiring = new Set<string>();
  #unregisteredSince = new Map<string, number>();
  #lastHold = '';

  constructor(options: AutoscalerOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#schedule();
  }

  /** No further decisions; waits for the one in progress (drains already requested carry on). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  /** One decision, and its action. Null when the balancer could not be read. */
  async tick(): Promise<ScaleDecision | null> {
    const servers = await this.#readServers();
    if (!servers) return null;
    const now = this.#now();
    const registered = new Set(servers.map((s) => s.serverId));
    const managed = this.#o.provider
      .list()
      .map((s) => s.id)
      .filter((id) => !this.#retiring.has(id));
    let waitingForRegistration = 0;
    for (const id of managed) {
      if (registered.has(id)) {
        this.#unregisteredSince.delete(id);
        continue;
      }
      const since = this.#unregisteredSince.get(id) ?? now;
      this.#unregisteredSince.set(id, since);
      if (now - since < (this.#o.registerGraceMs ?? 30_000)) waitingForRegistration += 1;
    }
    for (const id of this.#unregisteredSince.keys())
      if (!managed.includes(id)) this.#unregisteredSince.delete(id);

    const decision = decideScale({
      servers: servers.map((s) => ({
        ...s,
        playgrounds: s.playgrounds.length,
        draining: s.draining || this.#retiring.has(s.serverId),
      })),
      managed,
      waitingForRegistration,
      nowMs: now,
      lastActionAtMs: this.#lastActionAtMs,
      policy: this.#o.policy,
    });
    const fields = { freeSeats: decision.freeSeats, servers: managed.length, reason: decision.reason };
    if (decision.action === 'hold') {
      if (decision.reason !== this.#lastHold) this.#log.debug(fields, 'autoscaler: holding');
      this.#lastHold = decision.reason;
      return decision;
    }
    this.#lastHold = '';
    this.#lastActionAtMs = now;
    if (decision.action === 'start') {
      this.#log.info(fields, 'autoscaler: starting a dedicated server');
      try {
        const started = await this.#o.provider.start();
        this.#unregisteredSince.set(started.id, this.#now());
        this.#log.info(
          { serverId: started.id, endpoint: started.endpoint },
          'autoscaler: dedicated server started',
        );
      } catch (err) {
        this.#log.error({ err }, 'autoscaler: could not start a dedicated server');
      }
      return decision;
    }
    const { serverId } = decision;
    this.#retiring.add(serverId);
    this.#log.info({ ...fields, serverId }, 'autoscaler: draining a dedicated server');
    void this.#retire(serverId).finally(() => this.#retiring.delete(serverId));
    return decision;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.tick()
        .catch((err: unknown) => this.#log.warn({ err }, 'autoscaler: tick failed'))
        .finally(() => {
          this.#running = null;
          this.#schedule();
        });
    }, this.#o.intervalMs);
  }

  async #readServers() {
    try {
      // With the operator key the listing carries each server's playgrounds (docs/api.md).
      const res = await fetch(new URL(SERVERS_PATH, this.#o.balancerUrl), {
        headers: { authorization: `Bearer ${this.#o.operatorKey}` },
        signal: AbortSignal.timeout(this.#o.requestTimeoutMs ?? 3_000),
      });
      const parsed = serversResponse.safeParse(await res.json());
      if (parsed.success) return parsed.data.data.servers;
      this.#log.warn({ status: res.status }, 'autoscaler: unexpected servers list from the balancer');
    } catch (err) {
      // The balancer is restarting, or busy: decide again next interval.
      this.#log.debug({ err }, 'autoscaler: balancer not reachable');
    }
    return null;
  }

  /** Drain through the balancer (playgrounds move, the server exits), then retire it at the provider. */
  async #retire(serverId: string): Promise<void> {
    let drained = false;
    try {
      const res = await fetch(new URL(drainPath(serverId), this.#o.balancerUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${this.#o.operatorKey}` },
        signal: AbortSignal.timeout(this.#o.requestTimeoutMs ?? 3_000),
      });
      drained = res.ok;
      if (drained) {
        // An unread body would keep the connection busy until garbage collection.
        await res.body?.cancel();
      } else {
        const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
        this.#log.warn(
          { serverId, status: res.status, error: body?.error?.message },
          'autoscaler: the balancer refused the drain; stopping the server with SIGTERM (it drains on SIGTERM)',
        );
      }
    } catch (err) {
      this.#log.warn({ serverId, err }, 'autoscaler: drain request failed; stopping the server with SIGTERM');
    }
    try {
      await this.#o.provider.stop(serverId, { graceMs: drained ? (this.#o.drainGraceMs ?? 30_000) : 0 });
      this.#log.info({ serverId }, 'autoscaler: dedicated server drained and gone');
    } catch (err) {
      this.#log.error({ serverId, err }, 'autoscaler: could not stop a drained server');
    }
  }
}
