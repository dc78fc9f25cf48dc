import { z } from '@plexus/kit';
import { EVENT_STREAM_PATH, PLAYGROUND_ID_PATTERN, type PlexusEventEnvelope } from '@plexus/protocol';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';

/** Largest message accepted on the event stream (an 8 KiB payload plus its envelope, with room). */
export const EVENT_STREAM_MAX_PAYLOAD_BYTES = 64 * 1024;

const targetSchema = z.union([
  z.object({ userId: z.string().min(1).max(128) }),
  z.object({ playgroundId: z.string().regex(PLAYGROUND_ID_PATTERN) }),
  z.object({ all: z.literal(true) }),
]);

const userChangedSchema = z.object({ type: z.literal('userChanged'), userId: z.string().min(1).max(128) });

const streamMessageSchema = z.object({
  type: z.literal('event'),
  event: z.object({
    id: z.string().min(1).max(128),
    target: targetSchema,
    type: z.string().min(1).max(64),
    payload: z.unknown(),
    from: z.object({ kind: z.enum(['operator', 'server']) }).loose(),
    at: z.number(),
  }),
});

export interface BackendEventsOptions {
  backendUrl: string;
  partnerKey: string;
  logger: Logger;
  onEvent(event: PlexusEventEnvelope): void;
  /** A user's profile changed or one of their sessions was logged out (drop what is cached). */
  onUserChanged?(userId: string): void;
  /** The stream (re)opened: anything announced while it was down was missed. */
  onOpen?(): void;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /**
   * Silence after which the stream is taken for dead and reopened (default 25 s: the backend pings
   * every 10 s, so this is two missed pings and some slack). Catches a half-open connection, e.g. a
   * backend host that vanished without closing its sockets.
   */
  silenceTimeoutMs?: number;
}

/**
 * The balancer's subscription to the backend's published events: a WebSocket to EVENT_STREAM_PATH
 * with the partner key, reopened with a jittered exponential backoff (capped) whenever it drops or
 * cannot open. Each valid EventStreamMessage is handed to `onEvent`; anything else is logged and
 * skipped. Delivery is at-most-once: events published while the stream is down are not replayed.
 */
export class BackendEvents {
  readonly #o: BackendEventsOptions & {
    reconnectMinMs: number;
    reconnectMaxMs: number;
    silenceTimeoutMs: number;
  };
  readonly #url: string;
  #ws: WebSocket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #silence: NodeJS.Timeout | undefined;
  #attempt = 0;
  #closed = false;
  #warned = false;
  #opened: (() => void)[] = [];

  constructor(options: BackendEventsOptions) {
    this.#o = { reconnectMinMs: 250, reconnectMaxMs: 5_000, silenceTimeoutMs: 25_000, ...options };
    const url = new URL(EVENT_STREAM_PATH, `${options.backendUrl.replace(/\/+$/, '')}/`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.#url = url.toString();
  }

  get connected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  start(): void {
    if (!this.#closed && this.#ws === undefined && this.#timer === undefined) this.#open();
  }

  /** Resolves once the stream is open (for tests and start-up ordering). */
  whenOpen(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => this.#opened.push(resolve));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#silence);
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => ws.terminate(), 1_000);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      ws.close(1001, 'balancer shutting down');
    });
  }

  #open(): void {
    const ws = new WebSocket(this.#url, {
      headers: { authorization: `Bearer ${this.#o.partnerKey}` },
      maxPayload: EVENT_STREAM_MAX_PAYLOAD_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 5_000,
    });
    this.#ws = ws;
    ws.on('open', () => {
      this.#attempt = 0;
      this.#warned = false;
      this.#o.logger.info('event stream open');
      this.#heard(ws);
      this.#o.onOpen?.();
      for (const resolve of this.#opened.splice(0)) resolve();
    });
    ws.on('ping', () => this.#heard(ws));
    ws.on('unexpected-response', (_req, res) => {
      this.#failed(`the backend answered the event stream upgrade with HTTP ${res.statusCode}`);
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => this.#failed(`event stream error: ${err.message}`));
    ws.on('message', (data, isBinary) => {
      this.#heard(ws);
      if (isBinary) return;
      this.#onText(data.toString());
    });
    ws.on('close', () => {
      if (this.#ws === ws) {
        this.#ws = undefined;
        clearTimeout(this.#silence);
      }
      this.#scheduleReconnect();
    });
  }

  /** The backend spoke (a ping or a message): restart the silence clock. */
  #heard(ws: WebSocket): void {
    clearTimeout(this.#silence);
    this.#silence = setTimeout(() => {
      this.#o.logger.warn({ silentMs: this.#o.silenceTimeoutMs }, 'event stream silent; reopening it');
      ws.terminate();
    }, this.#o.silenceTimeoutMs);
    this.#silence.unref();
  }

  #onText(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.#o.logger.warn('event stream message is not JSON; skipped');
      return;
    }
    const changed = userChangedSchema.safeParse(json);
    if (changed.success) {
      this.#o.onUserChanged?.(changed.data.userId);
      return;
    }
    const parsed = streamMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.#o.logger.warn(
        { issues: parsed.error.issues.slice(0, 3) },
        'invalid event stream message; skipped',
      );
      return;
    }
    // Relay the backend's envelope as it sent it; the schema only vouches for its shape.
    this.#o.onEvent((json as { event: PlexusEventEnvelope }).event);
  }

  #failed(reason: string): void {
    // A backend that is down (or older, without the stream) fails every attempt: warn once per outage.
    if (this.#warned) this.#o.logger.debug({ reason }, 'event stream unavailable');
    else this.#o.logger.warn({ reason }, 'event stream unavailable; retrying with backoff');
    this.#warned = true;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#timer !== undefined) return;
    const base = Math.min(this.#o.reconnectMaxMs, this.#o.reconnectMinMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 20);
    const delay = base / 2 + Math.random() * (base / 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#open();
    }, delay);
    this.#timer.unref();
  }
}
