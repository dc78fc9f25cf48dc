import { type Entity, type EntityField, type Playground, PlexusClient, PlexusError } from '@plexus/client';
import WebSocket from 'ws';
import { LightBot } from './light-bot.ts';
import { LatencyHistogram, percentile, SendLog } from './stats.ts';
import { Walker } from './walk.ts';

/** Options of a {@link Swarm} (and of {@link runSwarm}). */
export interface SwarmOptions {
  /** Base URL of the load balancer (guest login and join go through it). */
  balancerUrl: string;
  /** Playground every bot joins. */
  playgroundId: string;
  /** Side of the square the bots walk in, metres, centred on the playground origin (default 50). */
  spread?: number;
  /** Guest first names are `<namePrefix><index>`; give each process its own (default `Bot`). */
  namePrefix?: string;
  /** Joins in flight at once (default 16; a dedicated server admits 16 pending handshakes per address by default). */
  concurrency?: number;
  /**
   * Bots that run the full SDK (`PlexusClient.join`, entity mirror, events) and measure update
   * latency (default 16). The others are *light*: they join through the same balancer path and
   * speak the same frames, but after the welcome keyframe they only count the bytes of what they
   * receive instead of decoding it — so one process can drive thousands of clients whose
   * combined incoming updates it could not decode.
   */
  observers?: number;
  /** Moves per second of every bot (default 20); the shared loop runs in sub-steps at a multiple of it. */
  moveHz?: number;
  /** Stand still: no moves, only a PING every 5 s (the idle scenario). */
  idle?: boolean;
  /** Cruising speed range of the random walk, m/s (default 1.5–3). */
  minSpeedMps?: number;
  maxSpeedMps?: number;
  /** Deadline of one join (login → welcome keyframe), ms (default 30 000). */
  joinTimeoutMs?: number;
  /** Randomness (tests). */
  random?: () => number;
}

/** Statistics of a measuring window (see {@link Swarm.startWindow}). */
export interface WindowStats {
  seconds: number;
  /** Bots connected at the end of the window. */
  clients: number;
  bytesReceived: number;
  bytesPerClientPerSec: number;
  latencyMs: { p50: number; p99: number; samples: number };
  movesSent: number;
  /** The window's latency histogram, to merge with other processes'. */
  histogram: LatencyHistogram;
}

/** What `plexus bots` prints at the end (and as JSON with `--json`). */
export interface SwarmSummary {
  playgroundId: string;
  count: number;
  joined: number;
  failed: number;
  /** Connections that ended after the join without the swarm closing them. */
  disconnects: number;
  observers: number;
  /** Login → welcome keyframe of each successful join, ms. */
  joinMs: { p50: number; p99: number };
  /** From a bot's MOVE send to an observer bot's receipt of that position, ms (see docs/benchmarks.md). */
  latencyMs: { p50: number; p99: number; samples: number };
  /** Bytes of WebSocket messages received per connected bot per second over the measuring window. */
  bytesPerClientPerSec: number;
  movesSent: number;
  /** Length of the measuring window (from the last join to the end), s. */
  windowS: number;
  /** First few join or connection errors. */
  errors: string[];
}

/** One line of progress (see {@link Swarm.progress}). */
export interface SwarmProgress {
  elapsedS: number;
  joined: number;
  failed: number;
  connected: number;
  deploying: number;
  disconnects: number;
  /** Since the previous progress call. */
  bytesPerClientPerSec: number;
  latencyMs: { p50: number; p99: number };
}

const MATCH_TOLERANCE_M = 0.01;
/**
 * Idle bots ping this often, by the clock: a loop that skips sub-steps to catch up must not skip a
 * bot's ping turn, or it would meet the server's idle deadline (15 s).
 */
const PING_EVERY_MS = 5_000;
/**
 * Sub-steps of one move period, each moving every SLICES-th bot: thousands of sends in one burst
 * hold the event loop for tens of milliseconds, and the updates the observers receive meanwhile
 * wait, which the latency they measure would count.
 */
const SLICES = 5;

interface Bot {
  index: number;
  entityId: number;
  walker: Walker | undefined;
  connected: boolean;
  closing: boolean;
  light: LightBot | undefined;
  pg: Playground | undefined;
  /** performance.now() of its last PING (idle light bots). */
  pingedAt: number;
}

/**
 * A swarm of bots in one process, driven by one shared loop at `moveHz` (in sub-steps): no per-bot timers, and
 * per-move work is a walk step, one MOVE frame and three numbers written into a ring.
 */
export class Swarm {
  readonly options: SwarmOptions;
  private readonly bots: Bot[] = [];
  private readonly slotOfEntity = new Map<number, number>();
  private sendLog = new SendLog(64);
  private sendLogSlots = 64;
  private readonly random: () => number;
  private readonly windowHist = new LatencyHistogram();
  private readonly intervalHist = new LatencyHistogram();
  private readonly joinTimes: number[] = [];
  readonly errors: string[] = [];
  private failedCount = 0;
  private disconnectCount = 0;
  private movesSent = 0;
  private observerCount = 0;
  private tickCount = 0;
  private loop: ReturnType<typeof setInterval> | undefined;
  /** When each slice last stepped (a slice's walkers advance by the time since). */
  private readonly lastStepMs = new Float64Array(SLICES);
  private readonly startedMs = performance.now();
  private windowStart = { ms: performance.now(), bytes: 0, moves: 0 };
  private intervalStart = { ms: performance.now(), bytes: 0 };
  private closed = false;

  constructor(options: SwarmOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
  }

  /** Joins `count` more bots (bounded concurrency); resolves when every join succeeded or failed. */
  async join(count: number): Promise<void> {
    const first = this.bots.length;
    this.ensureSlots(first + count);
    let next = first;
    const end = first + count;
    const worker = async () => {
      while (next < end && !this.closed) {
        const index = next++;
        await this.joinOne(index);
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency ?? 16, count));
    this.startLoop();
    await Promise.all(Array.from({ length: workers }, worker));
  }

  /** Starts a new measuring window: bytes, moves and latency are counted from now. */
  startWindow(): void {
    this.windowHist.reset();
    this.windowStart = { ms: performance.now(), bytes: this.totalBytes(), moves: this.movesSent };
  }

  /** Statistics since {@link startWindow} (or since the swarm started). */
  window(): WindowStats {
    const seconds = (performance.now() - this.windowStart.ms) / 1000;
    const clients = this.connectedCount();
    const bytesReceived = this.totalBytes() - this.windowStart.bytes;
    return {
      seconds,
      clients,
      bytesReceived,
      bytesPerClientPerSec: clients > 0 && seconds > 0 ? bytesReceived / clients / seconds : 0,
      latencyMs: {
        p50: this.windowHist.percentile(50),
        p99: this.windowHist.percentile(99),
        samples: this.windowHist.count,
      },
      movesSent: this.movesSent - this.windowStart.moves,
      histogram: this.windowHist,
    };
  }

  /** Progress since the previous call. */
  progress(): SwarmProgress {
    const now = performance.now();
    const bytes = this.totalBytes();
    const connected = this.connectedCount();
    const seconds = (now - this.intervalStart.ms) / 1000;
    const out: SwarmProgress = {
      elapsedS: (now - this.startedMs) / 1000,
      joined: this.joinTimes.length,
      failed: this.failedCount,
      connected,
      deploying: this.bots.filter((b) => b.connected && b.walker?.deploying).length,
      disconnects: this.disconnectCount,
      bytesPerClientPerSec:
        connected > 0 && seconds > 0 ? (bytes - this.intervalStart.bytes) / connected / seconds : 0,
      latencyMs: { p50: this.intervalHist.percentile(50), p99: this.intervalHist.percentile(99) },
    };
    this.intervalHist.reset();
    this.intervalStart = { ms: now, bytes };
    return out;
  }

  /** Bots still deploying to their starting point (see {@link Walker}). */
  get deploying(): number {
    let n = 0;
    for (const b of this.bots) if (b.connected && b.walker?.deploying) n++;
    return n;
  }

  /** Summary of the whole run; the measuring window is the current one. */
  summary(count: number): SwarmSummary {
    const w = this.window();
    return {
      playgroundId: this.options.playgroundId,
      count,
      joined: this.joinTimes.length,
      failed: this.failedCount,
      disconnects: this.disconnectCount,
      observers: this.observerCount,
      joinMs: { p50: percentile(this.joinTimes, 50), p99: percentile(this.joinTimes, 99) },
      latencyMs: w.latencyMs,
      bytesPerClientPerSec: w.bytesPerClientPerSec,
      movesSent: w.movesSent,
      windowS: w.seconds,
      errors: this.errors.slice(0, 5),
    };
  }

  /** Stops the loop and leaves with every bot. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.loop) clearInterval(this.loop);
    const leaving: Promise<void>[] = [];
    for (const bot of this.bots) {
      bot.closing = true;
      if (bot.pg) leaving.push(bot.pg.leave());
      else if (bot.light) leaving.push(bot.light.leave());
    }
    await Promise.all(leaving);
  }

  private connectedCount(): number {
    let n = 0;
    for (const b of this.bots) if (b.connected) n++;
    return n;
  }

  private totalBytes(): number {
    let n = 0;
    for (const b of this.bots) n += b.pg ? b.pg.bytesReceived : (b.light?.bytes ?? 0);
    return n;
  }

  /** Grows the send log to hold `slots` bots (old sends are dropped: they are only matched for ~1.6 s). */
  private ensureSlots(slots: number): void {
    if (slots <= this.sendLogSlots) return;
    let size = this.sendLogSlots;
    while (size < slots) size *= 2;
    this.sendLog = new SendLog(size);
    this.sendLogSlots = size;
  }

  private async joinOne(index: number): Promise<void> {
    const bot: Bot = {
      index,
      entityId: -1,
      walker: undefined,
      connected: false,
      closing: false,
      light: undefined,
      pg: undefined,
      // Spread the first pings of bots that join together over the ping period.
      pingedAt: performance.now() - (index % 100) * (PING_EVERY_MS / 100),
    };
    this.bots[index] = bot;
    const t0 = performance.now();
    const observer = this.observerCount < (this.options.observers ?? 16);
    if (observer) this.observerCount++;
    try {
      const client = new PlexusClient({
        balancerUrl: this.options.balancerUrl,
        WebSocket: WebSocket as unknown as NonNullable<
          ConstructorParameters<typeof PlexusClient>[0]['WebSocket']
        >,
        joinTimeoutMs: this.options.joinTimeoutMs ?? 30_000,
        requestTimeoutMs: this.options.joinTimeoutMs ?? 30_000,
      });
      await client.loginAsGuest({ firstName: `${this.options.namePrefix ?? 'Bot'}${index}` });
      let spawnX: number;
      let spawnZ: number;
      if (observer) {
        const pg = await politely(() => client.join({ playgroundId: this.options.playgroundId }));
        bot.pg = pg;
        const self = pg.self;
        spawnX = self?.position.x ?? 0;
        spawnZ = self?.position.z ?? 0;
        bot.entityId = pg.selfId;
        this.watch(bot, pg);
      } else {
        const grant = await politely(() =>
          client.balancer.getEndpointPlaygroundId(client.sessionId as string, this.options.playgroundId),
        );
        const light = new LightBot(grant.endpoint, grant.ticket, this.options.joinTimeoutMs ?? 30_000, {
          error: (message) => this.noteError(bot, message),
          lost: () => this.lost(bot),
        });
        bot.light = light;
        const spawn = await light.joined;
        bot.entityId = light.entityId;
        spawnX = spawn.x;
        spawnZ = spawn.z;
      }
      if (this.closed) return;
      bot.walker = new Walker(
        spawnX,
        spawnZ,
        {
          spread: this.options.spread ?? 50,
          ...(this.options.minSpeedMps !== undefined ? { minSpeedMps: this.options.minSpeedMps } : {}),
          ...(this.options.maxSpeedMps !== undefined ? { maxSpeedMps: this.options.maxSpeedMps } : {}),
        },
        this.random,
      );
      if (this.options.idle) bot.walker.deploying = false;
      this.slotOfEntity.set(bot.entityId, index);
      bot.connected = true;
      this.joinTimes.push(performance.now() - t0);
    } catch (err) {
      this.failedCount++;
      if (this.errors.length < 20) this.errors.push(`bot ${index}: ${(err as Error).message}`);
      if (bot.pg) void bot.pg.leave();
    }
  }

  private noteError(bot: Bot, message: string): void {
    if (this.errors.length < 20) this.errors.push(`bot ${bot.index}: ${message}`);
  }

  /** Observer bot: latency of every position of another bot of this swarm that it receives. */
  private watch(bot: Bot, pg: Playground): void {
    const lastMatched = new Map<number, number>();
    pg.on('entityChanged', (entity: Entity, changed: readonly EntityField[]) => {
      if (entity.id === bot.entityId || !changed.includes('position')) return;
      const slot = this.slotOfEntity.get(entity.id);
      if (slot === undefined) return;
      const sentMs = this.sendLog.match(slot, entity.position.x, entity.position.z, MATCH_TOLERANCE_M);
      if (Number.isNaN(sentMs) || sentMs === lastMatched.get(slot)) return;
      lastMatched.set(slot, sentMs);
      const ms = performance.now() - sentMs;
      this.windowHist.record(ms);
      this.intervalHist.record(ms);
    });
    pg.on('disconnected', () => this.lost(bot));
  }

  private lost(bot: Bot): void {
    if (!bot.connected) return;
    bot.connected = false;
    if (!bot.closing && !this.closed) this.disconnectCount++;
  }

  private startLoop(): void {
    if (this.loop) return;
    const subStepMs = 1000 / (this.options.moveHz ?? 20) / SLICES;
    const startMs = performance.now();
    this.lastStepMs.fill(startMs);
    this.loop = setInterval(() => {
      // A busy event loop fires timers late, and an interval's lateness adds up (W1 N = 800: 10 of
      // the 16 k moves per second): run the sub-steps due by the clock, at most one period's worth.
      const due = Math.floor((performance.now() - startMs) / subStepMs);
      if (due - this.tickCount > SLICES) this.tickCount = due - SLICES;
      while (this.tickCount < due) this.step();
    }, subStepMs);
  }

  /** One sub-step of the shared loop: every connected bot of one slice walks and sends one MOVE (or a PING). */
  private step(): void {
    const now = performance.now();
    const tick = this.tickCount++;
    const slice = tick % SLICES;
    // A stalled loop walks less rather than jumping: a jump could exceed the server's speed limit.
    const dtS = Math.min(0.25, (now - (this.lastStepMs[slice] as number)) / 1000);
    this.lastStepMs[slice] = now;
    const idle = this.options.idle === true;
    for (let i = slice; i < this.bots.length; i += SLICES) {
      const bot = this.bots[i];
      if (!bot?.connected || !bot.walker) continue;
      if (idle) {
        // Observers ping through the SDK; idle light bots ping here to stay within the idle deadline.
        if (!bot.pg && now - bot.pingedAt >= PING_EVERY_MS) {
          bot.light?.ping(now);
          bot.pingedAt = now;
        }
        continue;
      }
      const w = bot.walker;
      w.step(dtS, this.random);
      const position = { x: w.x, y: 0, z: w.z };
      const rotation = w.rotationY();
      const sentMs = performance.now();
      try {
        if (bot.pg) bot.pg.move({ position, rotation });
        else bot.light?.move(position, rotation);
      } catch (err) {
        // One bot's failure must not stop the loop that drives all the others.
        if (this.errors.length < 20) this.errors.push(`bot ${i}: move: ${(err as Error).message}`);
        continue;
      }
      this.sendLog.record(i, w.x, w.z, sentMs);
      this.movesSent++;
    }
  }
}

/** Options of {@link runSwarm}. */
export interface RunSwarmOptions extends SwarmOptions {
  count: number;
  /** How long the bots walk after the last join, s (default 10). */
  durationS?: number;
  /** Called about once per second while the swarm runs. */
  onProgress?: (p: SwarmProgress) => void;
}

/**
 * Joins `count` guests through the balancer, lets them random-walk for `durationS` after the last
 * join, leaves, and returns the summary (measuring window: from the last join to the end).
 */
export async function runSwarm(options: RunSwarmOptions): Promise<SwarmSummary> {
  const swarm = new Swarm(options);
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(swarm.progress()), 1000)
    : undefined;
  try {
    await swarm.join(options.count);
    swarm.startWindow();
    await new Promise((resolve) => setTimeout(resolve, (options.durationS ?? 10) * 1000));
    const summary = swarm.summary(options.count);
    return summary;
  } finally {
    if (progress) clearInterval(progress);
    await swarm.close();
  }
}

/** Tries a 429 (`COMMON_RATE_LIMITED`) asks for before a ticket request counts as failed. */
const RATE_LIMITED_TRIES = 30;

/**
 * Runs a ticket request again while the balancer answers 429: a swarm from one address meets the
 * per-address join rate (docs/operations.md, Limits) and waits its turn, as a good client does.
 */
async function politely<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (err) {
      if (!(err instanceof PlexusError && err.is('COMMON_RATE_LIMITED')) || attempt >= RATE_LIMITED_TRIES) {
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 50 * 2 ** attempt) * Math.random()));
    }
  }
}
