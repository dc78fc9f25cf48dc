import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type BalancerToServer,
  CloseCodes,
  CONTROL_PATH,
  CONTROL_PROTOCOL_VERSION,
  ErrorCodes,
  type ErrorName,
} from '@plexus/protocol';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { bearerKeyCheck } from './bearer-key.ts';
import type { ClusterStore, Release, ServerIdentity } from './cluster-store.ts';
import { parseServerMessage } from './control-messages.ts';
import { type ControlRpc, newRpcSlots, type RpcPeer, type RpcSlots } from './control-rpc.ts';
import type { LocalServers } from './server-router.ts';
import type { TicketPublicJwk } from './tickets.ts';

/** Largest control message (docs/operations.md "Limits"). */
export const CONTROL_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Bytes queued on a control socket beyond which further messages to it are dropped. */
export const CONTROL_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Load reports waiting for the store per server; beyond it new ones are dropped (the next replaces them). */
const MAX_QUEUED_OPS = 8;

/** Close codes of the control channel (docs/api.md#control-channel). */
export const ControlCloseCodes = {
  GOING_AWAY: CloseCodes.GOING_AWAY,
  PROTOCOL_ERROR: CloseCodes.PROTOCOL_ERROR,
  UNSUPPORTED_VERSION: CloseCodes.UNSUPPORTED_VERSION,
  REGISTER_TIMEOUT: CloseCodes.HANDSHAKE_TIMEOUT,
  REPLACED: CloseCodes.DUPLICATE_LOGIN,
  SHUTDOWN: CloseCodes.SHUTTING_DOWN,
  /** 1013 Try Again Later: the shared state (Redis) could not record the registration. */
  TRY_AGAIN_LATER: 1013,
} as const;

export interface ControlChannelOptions {
  store: ClusterStore;
  rpc: ControlRpc;
  ticketKey: TicketPublicJwk;
  clusterSecret: string;
  heartbeatIntervalMs: number;
  /** Missed pongs in a row after which a server is dead. */
  deadAfterMisses: number;
  registerTimeoutMs: number;
  logger: Logger;
  /** Mappings lost in an epoch conflict: the losers must be told (they may be on another balancer). */
  onReleases(releases: Release[]): void;
  /** A server no balancer holds any more was declared dead. */
  onServerDead(serverId: string, dropped: string[]): void;
}

interface Connection {
  ws: WebSocket;
  serverId: string | undefined;
  identity: ServerIdentity | undefined;
  missedPongs: number;
  /** Set when a newer connection took over its server id: its close must not unregister. */
  replaced: boolean;
  registerTimer: NodeJS.Timeout | undefined;
  heartbeat: NodeJS.Timeout | undefined;
  rpc: RpcSlots;
  log: Logger;
}

/** State operations of one server, applied one after another (register before load, lose before re-register). */
interface OpQueue {
  tail: Promise<void>;
  depth: number;
}

/**
 * The WebSocket control channel dedicated servers keep open to the balancer: authenticated by the
 * cluster secret on upgrade, `register` first, then load reports, ticket redemptions and control RPCs;
 * the balancer pings every heartbeat interval and declares a server dead after `deadAfterMisses`
 * missed pongs or when its socket closes.
 */
export class ControlChannel implements LocalServers {
  readonly #o: ControlChannelOptions;
  readonly #wss: WebSocketServer;
  readonly #authorized: (header: string | undefined) => boolean;
  readonly #connections = new Set<Connection>();
  readonly #byServer = new Map<string, Connection>();
  readonly #queues = new Map<string, OpQueue>();
  readonly #refresh: NodeJS.Timeout;
  /** The refresh in flight: a slow store (Redis timing out) gets one at a time, not a pile. */
  #refreshing: Promise<void> | undefined;
  #closing = false;

  constructor(options: ControlChannelOptions) {
    this.#o = options;
    this.#authorized = bearerKeyCheck(options.clusterSecret);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: CONTROL_MAX_PAYLOAD_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
    // Shared state expires unless refreshed: this is what tells other balancers this one still
    // holds its servers.
    this.#refresh = setInterval(() => {
      this.#refreshing ??= this.#o.store
        .refresh(this.connectedServers())
        .catch((err: unknown) => this.#o.logger.debug({ err }, 'registry refresh failed'))
        .finally(() => {
          this.#refreshing = undefined;
        });
    }, options.heartbeatIntervalMs);
    this.#refresh.unref();
  }

  /** Takes over `upgrade` requests on the HTTP server: CONTROL_PATH only, everything else is dropped. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
  }

  /** Registered server ids whose socket this balancer holds. */
  connectedServers(): string[] {
    return [...this.#byServer.keys()];
  }

  isConnected(serverId: string): boolean {
    return this.#byServer.has(serverId);
  }

  send(serverId: string, message: BalancerToServer): boolean {
    const conn = this.#byServer.get(serverId);
    return conn !== undefined && this.#send(conn, message);
  }

  broadcast(message: BalancerToServer): number {
    const text = JSON.stringify(message);
    let sent = 0;
    for (const conn of this.#byServer.values()) if (this.#sendText(conn, text)) sent++;
    return sent;
  }

  /**
   * Closes every control socket with 1001 and stops accepting new ones. Servers are not declared
   * dead: they reconnect to this balancer when it is back, or stay held by the others.
   */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#refresh);
    const closed = [...this.#connections].map(
      (conn) =>
        new Promise<void>((resolve) => {
          if (conn.ws.readyState === conn.ws.CLOSED) return resolve();
          const force = setTimeout(() => conn.ws.terminate(), 1_000);
          conn.ws.once('close', () => {
            clearTimeout(force);
            resolve();
          });
          conn.ws.close(ControlCloseCodes.GOING_AWAY, 'balancer shutting down');
        }),
    );
    await Promise.all(closed);
    await Promise.all([...this.#queues.values()].map((q) => q.tail));
    await this.#refreshing;
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== CONTROL_PATH || this.#closing) {
      socket.destroy();
      return;
    }
    if (!this.#authorized(req.headers.authorization)) {
      this.#o.logger.warn(
        { remote: req.socket.remoteAddress },
        'control connection refused: bad cluster secret',
      );
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, req));
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const conn: Connection = {
      ws,
      serverId: undefined,
      identity: undefined,
      missedPongs: 0,
      replaced: false,
      registerTimer: undefined,
      heartbeat: undefined,
      rpc: newRpcSlots(),
      log: this.#o.logger.child({ remote: req.socket.remoteAddress }),
    };
    this.#connections.add(conn);
    conn.registerTimer = setTimeout(() => {
      this.#refuse(
        conn,
        'PROTOCOL_HANDSHAKE_TIMEOUT',
        'No register message in time',
        ControlCloseCodes.REGISTER_TIMEOUT,
      );
    }, this.#o.registerTimeoutMs);
    ws.on('message', (data, isBinary) => {
      try {
        this.#onMessage(conn, isBinary ? undefined : data.toString());
      } catch (err) {
        conn.log.error({ err }, 'control message handling failed');
        this.#refuse(conn, 'COMMON_INTERNAL', 'Internal error', ControlCloseCodes.PROTOCOL_ERROR);
      }
    });
    ws.on('pong', () => {
      conn.missedPongs = 0;
    });
    ws.on('error', (err) => conn.log.warn({ err }, 'control socket error'));
    ws.on('close', (code) => this.#onClose(conn, code));
  }

  #onMessage(conn: Connection, text: string | undefined): void {
    if (text === undefined) {
      this.#refuse(
        conn,
        'COMMON_BAD_REQUEST',
        'Control messages are JSON text frames',
        ControlCloseCodes.PROTOCOL_ERROR,
      );
      return;
    }
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      this.#refuse(conn, parsed.errorName, parsed.detail, ControlCloseCodes.PROTOCOL_ERROR);
      return;
    }
    const message = parsed.message;
    if (conn.serverId === undefined) {
      if (message.type !== 'register') {
        this.#refuse(
          conn,
          'PROTOCOL_UNEXPECTED_FRAME',
          'The first message must be register',
          ControlCloseCodes.PROTOCOL_ERROR,
        );
        return;
      }
      if (message.protocolVersion !== CONTROL_PROTOCOL_VERSION) {
        this.#refuse(
          conn,
          'PROTOCOL_UNSUPPORTED_VERSION',
          `Control protocol ${message.protocolVersion} is not supported (expected ${CONTROL_PROTOCOL_VERSION})`,
          ControlCloseCodes.UNSUPPORTED_VERSION,
        );
        return;
      }
      this.#register(conn, message);
      return;
    }
    const serverId = conn.serverId;
    switch (message.type) {
      case 'register':
        this.#refuse(
          conn,
          'PROTOCOL_UNEXPECTED_FRAME',
          'Already registered',
          ControlCloseCodes.PROTOCOL_ERROR,
        );
        return;
      case 'load':
        this.#enqueue(
          serverId,
          conn,
          async () => {
            this.#o.onReleases(await this.#o.store.report(conn.identity as ServerIdentity, message));
          },
          true,
        );
        return;
      case 'ticketRedeemed':
        this.#enqueue(serverId, conn, async () => {
          await this.#o.store.redeem(serverId, message.jti, message.playgroundId);
        });
        return;
      case 'rpc':
        this.#o.rpc.handle(this.#peerOf(conn, serverId), message);
        return;
    }
  }

  #register(
    conn: Connection,
    message: ServerIdentity & {
      playgrounds: { playgroundId: string; players: number; epoch?: number | undefined }[];
    },
  ): void {
    clearTimeout(conn.registerTimer);
    conn.registerTimer = undefined;
    const serverId = message.serverId;
    const previous = this.#byServer.get(serverId);
    if (previous) {
      previous.replaced = true;
      previous.log.warn('control connection replaced by a newer one for the same server id');
      this.#stopHeartbeat(previous);
      previous.ws.close(ControlCloseCodes.REPLACED, 'replaced by a newer connection');
    }
    conn.serverId = serverId;
    conn.identity = {
      serverId,
      endpoint: message.endpoint,
      capacity: message.capacity,
      version: message.version,
      protocolVersion: message.protocolVersion,
    };
    conn.log = conn.log.child({ serverId });
    this.#byServer.set(serverId, conn);
    this.#enqueue(serverId, conn, async () => {
      let releases: Release[];
      try {
        releases = await this.#o.store.register(conn.identity as ServerIdentity, message.playgrounds);
      } catch (err) {
        conn.log.error({ err }, 'registration could not be recorded');
        this.#refuse(
          conn,
          'LB_STATE_UNAVAILABLE',
          'The balancer could not record the registration; retry later',
          ControlCloseCodes.TRY_AGAIN_LATER,
        );
        return;
      }
      if (this.#byServer.get(serverId) !== conn) return;
      this.#send(conn, {
        type: 'registered',
        ticketKey: this.#o.ticketKey,
        heartbeatIntervalMs: this.#o.heartbeatIntervalMs,
      });
      this.#startHeartbeat(conn);
      conn.log.info(
        { endpoint: message.endpoint, capacity: message.capacity, version: message.version },
        'dedicated server registered',
      );
      this.#o.onReleases(releases);
    });
  }

  #peerOf(conn: Connection, serverId: string): RpcPeer {
    return { serverId, rpc: conn.rpc, send: (m) => this.#send(conn, m) };
  }

  /**
   * Runs a state operation after the server's earlier ones. Operations of a connection that is no
   * longer the server's current one are skipped; `droppable` ones (load reports) are dropped when
   * the store is slow rather than queued without bound.
   */
  #enqueue(serverId: string, conn: Connection | undefined, op: () => Promise<void>, droppable = false): void {
    let queue = this.#queues.get(serverId);
    if (!queue) {
      queue = { tail: Promise.resolve(), depth: 0 };
      this.#queues.set(serverId, queue);
    }
    if (droppable && queue.depth >= MAX_QUEUED_OPS) return;
    const q = queue;
    q.depth++;
    q.tail = q.tail
      .then(() => (conn === undefined || this.#byServer.get(serverId) === conn ? op() : undefined))
      .catch((err: unknown) => this.#o.logger.debug({ err, serverId }, 'control state operation failed'))
      .finally(() => {
        q.depth--;
        if (q.depth === 0 && this.#queues.get(serverId) === q) this.#queues.delete(serverId);
      });
  }

  #onClose(conn: Connection, code: number): void {
    clearTimeout(conn.registerTimer);
    this.#stopHeartbeat(conn);
    this.#connections.delete(conn);
    const serverId = conn.serverId;
    if (serverId === undefined || conn.replaced || this.#byServer.get(serverId) !== conn) return;
    this.#unregister(serverId, `control socket closed (${code})`);
  }

  #unregister(serverId: string, reason: string): void {
    this.#byServer.delete(serverId);
    // A balancer shutting down leaves its servers to the others (or to its own restart): its entries
    // in the shared state simply expire.
    if (this.#closing) return;
    this.#enqueue(serverId, undefined, async () => {
      const outcome = await this.#o.store.lose(serverId, reason);
      if (outcome.dead) {
        this.#o.logger.warn(
          { serverId, reason, playgrounds: outcome.dropped.slice(0, 50), dropped: outcome.dropped.length },
          'dedicated server dead; its playgrounds are placed again on their next join',
        );
        this.#o.onServerDead(serverId, outcome.dropped);
      } else {
        this.#o.logger.info(
          { serverId, reason },
          'control link lost; another balancer still holds the server',
        );
      }
    });
  }

  #startHeartbeat(conn: Connection): void {
    conn.heartbeat = setInterval(() => {
      if (conn.missedPongs >= this.#o.deadAfterMisses) {
        conn.log.warn({ missedPongs: conn.missedPongs }, 'dedicated server missed its heartbeats');
        this.#stopHeartbeat(conn);
        // Unregister at once: terminate's close event may come later on a dead peer.
        if (conn.serverId !== undefined && this.#byServer.get(conn.serverId) === conn) {
          this.#unregister(conn.serverId, `missed ${conn.missedPongs} heartbeats`);
        }
        conn.ws.terminate();
        return;
      }
      conn.missedPongs++;
      conn.ws.ping();
    }, this.#o.heartbeatIntervalMs);
  }

  #stopHeartbeat(conn: Connection): void {
    clearInterval(conn.heartbeat);
    conn.heartbeat = undefined;
  }

  #refuse(conn: Connection, errorName: ErrorName, message: string, closeCode: number): void {
    conn.log.warn({ code: ErrorCodes[errorName].code, reason: message }, 'control message refused');
    clearTimeout(conn.registerTimer);
    this.#stopHeartbeat(conn);
    // A refused server takes no more placements, even if its peer is slow to finish the close.
    if (conn.serverId !== undefined && this.#byServer.get(conn.serverId) === conn) {
      this.#unregister(conn.serverId, `refused: ${errorName}`);
    }
    this.#send(conn, { type: 'error', code: ErrorCodes[errorName].code, message });
    conn.ws.close(closeCode, errorName.slice(0, 100));
  }

  #send(conn: Connection, message: BalancerToServer): boolean {
    return this.#sendText(conn, JSON.stringify(message));
  }

  #sendText(conn: Connection, text: string): boolean {
    if (conn.ws.readyState !== conn.ws.OPEN) return false;
    if (conn.ws.bufferedAmount > CONTROL_MAX_BUFFERED_BYTES) {
      conn.log.warn({ buffered: conn.ws.bufferedAmount }, 'control socket backed up; message dropped');
      return false;
    }
    conn.ws.send(text);
    return true;
  }
}
