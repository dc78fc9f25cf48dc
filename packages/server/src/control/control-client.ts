import type { Logger } from '@plexus/kit';
import {
  type BalancerToServer,
  CONTROL_PATH,
  type PlayerRecordMessage,
  type PlexusEventEnvelope,
  type RegisterMessage,
  type RpcResultMessage,
  type ServerToBalancer,
} from '@plexus/protocol';
import WebSocket from 'ws';
import { z } from 'zod';

const id128 = z.string().min(1).max(128);

/** A published event as the balancer relays it; the DS bounds its encoded size again on delivery. */
export const eventEnvelopeSchema = z.object({
  id: id128,
  target: z.union([
    z.object({ userId: id128 }),
    z.object({ playgroundId: id128 }),
    z.object({ all: z.literal(true) }),
  ]),
  type: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/),
  payload: z.unknown(),
  from: z.union([
    z.object({ kind: z.literal('operator') }),
    z.object({ kind: z.literal('server'), serverId: id128, userId: id128.optional() }),
  ]),
  at: z.number(),
});

const vec3Schema = z.object({ x: z.number(), y: z.number(), z: z.number() });

/** A saved record as players.get answers it (data within the backend's size limit). */
const playerRecordSchema = z.object({
  userId: id128,
  playgroundId: id128,
  position: vec3Schema.nullable(),
  rotation: vec3Schema.extend({ w: z.number() }).nullable(),
  data: z.record(z.string(), z.unknown()),
  updatedAt: z.number(),
});

const incomingSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('registered'),
    ticketKey: z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(1).max(128) }),
    heartbeatIntervalMs: z.number().int().positive(),
  }),
  z.object({ type: z.literal('command'), command: z.enum(['drain', 'shutdown']) }),
  z.object({ type: z.literal('release'), playgroundId: id128 }),
  z.object({
    type: z.literal('rpcResult'),
    id: z.number().int().positive(),
    data: z.unknown().optional(),
    error: z
      .object({ status: z.number().int(), code: z.number().int(), message: z.string().max(4096) })
      .optional(),
  }),
  z.object({ type: z.literal('event'), event: eventEnvelopeSchema }),
  z.object({
    type: z.literal('playerRecord'),
    jti: id128,
    userId: id128,
    playgroundId: id128,
    record: playerRecordSchema.nullable(),
  }),
  z.object({ type: z.literal('error'), code: z.number().int(), message: z.string().max(1024) }),
]);

type Registered = Extract<BalancerToServer, { type: 'registered' }>;

export interface ControlClientOptions {
  /** The balancer's base URL (http/https); the socket goes to ws/wss + CONTROL_PATH. */
  balancerUrl: string;
  clusterSecret: string;
  logger: Logger;
  /** The register message, built fresh on each (re)connection so it lists current playgrounds. */
  registerMessage: () => RegisterMessage;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  onRegistered: (msg: Registered) => Promise<void> | void;
  /** The balancer accepted the registration: the link carries load reports and RPCs. */
  onUp?: () => void;
  /** A registered link stopped being usable (socket closed, or the client closed). */
  onDown?: () => void;
  onCommand: (command: 'drain' | 'shutdown') => void;
  onRelease?: (playgroundId: string) => void;
  onRpcResult?: (msg: RpcResultMessage) => void;
  onEvent?: (event: PlexusEventEnvelope) => void;
  onPlayerRecord?: (msg: PlayerRecordMessage) => void;
  maxPayloadBytes?: number;
}

/** The balancer's control URL for a base URL: http→ws, https→wss, path CONTROL_PATH. */
export function controlUrl(balancerUrl: string): string {
  const u = new URL(balancerUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = CONTROL_PATH;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/**
 * The dedicated server's end of one control channel: registers, forwards commands, releases, RPC
 * results and events, and reconnects with capped exponential backoff whenever the socket closes.
 * Load reports and RPCs are sent by the owner (balancer-links.ts) through `send`/`sendText`.
 */
export class ControlClient {
  private readonly options: ControlClientOptions;
  private readonly url: string;
  private ws: WebSocket | null = null;
  private registered = false;
  private closed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(options: ControlClientOptions) {
    this.options = options;
    this.url = controlUrl(options.balancerUrl);
  }

  /** True while the socket is open and the balancer accepted the registration. */
  get isRegistered(): boolean {
    return this.registered;
  }

  start(): void {
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const log = this.options.logger;
    const ws = new WebSocket(this.url, {
      headers: { Authorization: `Bearer ${this.options.clusterSecret}` },
      perMessageDeflate: false,
      maxPayload: this.options.maxPayloadBytes ?? 1024 * 1024,
      handshakeTimeout: 5_000,
    });
    this.ws = ws;
    ws.on('open', () => {
      log.debug({ url: this.url }, 'control socket open');
      this.send(this.options.registerMessage());
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        log.warn('control: binary message ignored');
        return;
      }
      this.onMessage(ws, data.toString());
    });
    ws.on('error', (err) => {
      // Loud on the first failure and every tenth retry, so a wrong balancer URL shows up without
      // flooding the log while the balancer is merely restarting.
      const level = this.attempt % 10 === 0 ? 'warn' : 'debug';
      log[level]({ err: err.message, url: this.url, attempt: this.attempt }, 'control socket error');
    });
    ws.on('unexpected-response', (_req, res) => {
      log.warn({ status: res.statusCode }, 'control: balancer refused the connection');
      ws.terminate();
    });
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasRegistered = this.registered;
      this.registered = false;
      if (wasRegistered) this.options.onDown?.();
      if (this.closed) return;
      if (wasRegistered) log.warn({ code }, 'control socket closed, reconnecting');
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const delay = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private onMessage(ws: WebSocket, raw: string): void {
    const log = this.options.logger;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      log.warn('control: message is not JSON, ignored');
      return;
    }
    const parsed = incomingSchema.safeParse(json);
    if (!parsed.success) {
      log.warn(
        { issues: parsed.error.issues.slice(0, 3).map((i) => i.message) },
        'control: bad message ignored',
      );
      return;
    }
    const msg = parsed.data;
    switch (msg.type) {
      case 'registered':
        Promise.resolve(this.options.onRegistered(msg)).then(
          () => {
            if (this.closed || this.ws !== ws) return;
            this.registered = true;
            this.attempt = 0;
            log.info('registered with the balancer');
            this.options.onUp?.();
          },
          (err: unknown) => log.error({ err }, 'control: cannot use the ticket key'),
        );
        break;
      case 'command':
        log.info({ command: msg.command }, 'control: command received');
        this.options.onCommand(msg.command);
        break;
      case 'release':
        log.info({ playgroundId: msg.playgroundId }, 'control: release received');
        this.options.onRelease?.(msg.playgroundId);
        break;
      case 'rpcResult':
        this.options.onRpcResult?.(msg as RpcResultMessage);
        break;
      case 'event':
        this.options.onEvent?.(msg.event as PlexusEventEnvelope);
        break;
      case 'playerRecord':
        this.options.onPlayerRecord?.(msg);
        break;
      case 'error':
        log.warn({ code: msg.code, message: msg.message }, 'control: balancer reported an error');
        break;
    }
  }

  /** Sends a message when the socket is open; dropped otherwise (re-registering resyncs the balancer). */
  send(msg: ServerToBalancer): boolean {
    return this.sendText(JSON.stringify(msg));
  }

  /** Sends an already serialised message (an RPC whose params were serialised once). */
  sendText(text: string): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(text);
    return true;
  }

  /** Closes the socket and stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.registered) {
      this.registered = false;
      this.options.onDown?.();
    }
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1001, 'server stopping');
    });
  }
}
