import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ClusterStore } from '../cluster-store.ts';
import { consoleSnapshot } from './snapshot.ts';

export interface ConsoleFeedOptions {
  store: Pick<ClusterStore, 'list' | 'deadServers' | 'mode'>;
  lbId: string;
  /** How often every open stream gets a fresh snapshot. */
  intervalMs: number;
  /** Most streams open at once on this balancer. */
  maxStreams: number;
  logger: Logger;
  now?: () => number;
}

/** A stream whose socket holds more unsent bytes than this skips snapshots until it drains. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Pushes the console's snapshot (console/snapshot.ts) to every open operator stream as server-sent
 * events: one registry read and one encoding per interval, shared by all streams, and one right away
 * for a new stream. The timer runs only while a stream is open.
 */
export class ConsoleFeed {
  readonly #o: ConsoleFeedOptions;
  readonly #streams = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | null = null;
  #building: Promise<string | null> | null = null;

  constructor(options: ConsoleFeedOptions) {
    this.#o = options;
  }

  get open(): number {
    return this.#streams.size;
  }

  get full(): boolean {
    return this.#streams.size >= this.#o.maxStreams;
  }

  /** Starts streaming to `res` (headers not yet sent); it leaves the feed when its socket closes. */
  add(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      // A stream ends only when the balancer closes: its socket goes with it, never back to a pool.
      connection: 'close',
    });
    // Browsers reconnect after this long if the stream drops; the console reconnects on its own too.
    res.write('retry: 2000\n\n');
    this.#streams.add(res);
    res.on('close', () => {
      this.#streams.delete(res);
      if (this.#streams.size === 0) this.#stop();
    });
    this.#timer ??= setInterval(() => void this.push(), this.#o.intervalMs);
    void this.#frame().then((frame) => {
      if (frame !== null && this.#streams.has(res)) res.write(frame);
    });
  }

  /** Sends a fresh snapshot to every stream now (also after an operator action). */
  async push(): Promise<void> {
    const frame = await this.#frame();
    if (frame === null) return;
    for (const res of this.#streams) {
      if (res.writableLength <= MAX_BUFFERED_BYTES) res.write(frame);
    }
  }

  /** Ends every stream (the balancer is closing). */
  close(): void {
    for (const res of this.#streams) res.destroy();
    this.#streams.clear();
    this.#stop();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One snapshot frame; concurrent callers share the read. Null when the registry cannot be read. */
  #frame(): Promise<string | null> {
    this.#building ??= this.#build().finally(() => {
      this.#building = null;
    });
    return this.#building;
  }

  async #build(): Promise<string | null> {
    const { store, lbId } = this.#o;
    try {
      const [servers, dead] = await Promise.all([store.list(), store.deadServers()]);
      const snapshot = consoleSnapshot({
        servers,
        dead,
        lbId,
        mode: store.mode,
        nowMs: (this.#o.now ?? Date.now)(),
      });
      return `event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`;
    } catch (err) {
      // Redis down: the streams keep their last snapshot and hear about it.
      this.#o.logger.warn({ err }, 'console snapshot failed');
      return `event: unavailable\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`;
    }
  }
}
