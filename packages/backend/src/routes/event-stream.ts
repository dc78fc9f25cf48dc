import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@plexus/kit';
import {
  EVENT_STREAM_PATH,
  type EventStreamMessage,
  type PlexusEventEnvelope,
  type UserChangedMessage,
} from '@plexus/protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ContinuityMetrics } from '../services/continuity-metrics.ts';
import type { EventSink } from '../services/event-service.ts';
import { bearerToken, secretsEqual } from '../services/tokens.ts';

/** Bytes queued on one balancer's socket beyond which live events to it are dropped. */
export const EVENT_STREAM_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Ping cadence; a balancer that has not answered the previous ping is cut off. */
export const EVENT_STREAM_PING_MS = 10_000;
/** Balancers only listen; anything they send is small (or a protocol error). */
const MAX_INBOUND_BYTES = 4 * 1024;
/** A drop is logged at most this often per balancer (the metric counts each one). */
const DROP_LOG_INTERVAL_MS = 5_000;

export interface EventStreamOptions {
  partnerKey: string;
  metrics: ContinuityMetrics;
  logger: Logger;
  pingIntervalMs?: number;
  maxBufferedBytes?: number;
}

interface Listener {
  ws: WebSocket;
  alive: boolean;
  dropped: number;
  lastDropLog: number;
  log: Logger;
}

/**
 * The WebSocket at EVENT_STREAM_PATH where every balancer (partner key on the upgrade) receives every
 * live event as an EventStreamMessage. Delivery is at-most-once: an event is serialised once and
 * written to each socket, unless that socket's send buffer is past the bound, in which case the event
 * is dropped for that balancer (counted and logged) rather than letting a stuck balancer grow memory.
 */
export class EventStream implements EventSink {
  readonly #o: EventStreamOptions;
  readonly #wss: WebSocketServer;
  readonly #listeners = new Set<Listener>();
  readonly #maxBuffered: number;
  #pinger: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(options: EventStreamOptions) {
    this.#o = options;
    this.#maxBuffered = options.maxBufferedBytes ?? EVENT_STREAM_MAX_BUFFERED_BYTES;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_INBOUND_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  /**
   * Handles `upgrade` requests for EVENT_STREAM_PATH on the HTTP server. Other paths are left to other
   * upgrade listeners, or refused when there are none.
   */
  attach(server: Server): void {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if ((req.url ?? '').split('?')[0] === EVENT_STREAM_PATH) this.#onUpgrade(req, socket, head);
      else if (server.listenerCount('upgrade') === 1) socket.destroy();
    };
    server.on('upgrade', onUpgrade);
    this.#pinger = setInterval(() => this.#ping(), this.#o.pingIntervalMs ?? EVENT_STREAM_PING_MS);
    this.#pinger.unref();
  }

  /** Connected balancers. */
  get size(): number {
    return this.#listeners.size;
  }

  broadcast(event: PlexusEventEnvelope): void {
    if (this.#listeners.size === 0) return;
    const message: EventStreamMessage = { type: 'event', event };
    const text = JSON.stringify(message);
    for (const listener of this.#listeners) {
      if (listener.ws.readyState !== listener.ws.OPEN) continue;
      if (listener.ws.bufferedAmount > this.#maxBuffered) {
        this.#drop(listener, event);
        continue;
      }
      listener.ws.send(text);
    }
  }

  /**
   * Tells every balancer that a user's profile or sessions changed. Unlike an event this is never
   * dropped: a balancer too far behind to take it is cut off, and a balancer clears its whole auth
   * cache when its stream reopens.
   */
  userChanged(userId: string): void {
    const message: UserChangedMessage = { type: 'userChanged', userId };
    const text = JSON.stringify(message);
    for (const listener of this.#listeners) {
      if (listener.ws.readyState !== listener.ws.OPEN) continue;
      if (listener.ws.bufferedAmount > this.#maxBuffered) listener.ws.terminate();
      else listener.ws.send(text);
    }
  }

  /** Closes every stream with 1001 and refuses new ones. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pinger);
    await Promise.all(
      [...this.#listeners].map(
        (listener) =>
          new Promise<void>((resolve) => {
            if (listener.ws.readyState === listener.ws.CLOSED) return resolve();
            const force = setTimeout(() => listener.ws.terminate(), 1_000);
            listener.ws.once('close', () => {
              clearTimeout(force);
              resolve();
            });
            listener.ws.close(1001, 'backend shutting down');
          }),
      ),
    );
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.#closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const key = bearerToken(req.headers.authorization);
    if (key === undefined || !secretsEqual(key, this.#o.partnerKey)) {
      this.#o.logger.warn({ remote: req.socket.remoteAddress }, 'event stream refused: bad partner key');
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, req));
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const listener: Listener = {
      ws,
      alive: true,
      dropped: 0,
      lastDropLog: 0,
      log: this.#o.logger.child({ remote: `${req.socket.remoteAddress}:${req.socket.remotePort}` }),
    };
    this.#listeners.add(listener);
    this.#o.metrics.streamConnections.set(this.#listeners.size);
    listener.log.info('balancer connected to the event stream');
    ws.on('pong', () => {
      listener.alive = true;
    });
    ws.on('error', (err) => listener.log.warn({ err }, 'event stream socket error'));
    ws.on('close', (code) => {
      this.#listeners.delete(listener);
      this.#o.metrics.streamConnections.set(this.#listeners.size);
      listener.log.info({ code, dropped: listener.dropped }, 'balancer left the event stream');
    });
  }

  #ping(): void {
    for (const listener of this.#listeners) {
      if (!listener.alive) {
        listener.log.warn('event stream: no pong, closing');
        listener.ws.terminate();
        continue;
      }
      listener.alive = false;
      listener.ws.ping();
    }
  }

  #drop(listener: Listener, event: PlexusEventEnvelope): void {
    listener.dropped += 1;
    this.#o.metrics.streamDropped.inc();
    const now = Date.now();
    if (now - listener.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    listener.lastDropLog = now;
    listener.log.warn(
      { eventId: event.id, bufferedBytes: listener.ws.bufferedAmount, droppedSoFar: listener.dropped },
      'event stream backed up: live event dropped for this balancer',
    );
  }
}
