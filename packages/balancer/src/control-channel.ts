import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type BalancerToServer,
  CloseCodes,
  CONTROL_PATH,
  CONTROL_PROTOCOL_VERSION,
  type CommandMessage,
  ErrorCodes,
  type ErrorName,
} from '@plexus/protocol';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { parseServerMessage } from './control-messages.ts';
import type { MappingConflict, ServerRegistry } from './registry.ts';
import type { SeatLedger } from './seat-ledger.ts';
import type { TicketPublicJwk } from './tickets.ts';

/** Largest control message (DESIGN.md §8). */
export const CONTROL_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Missed pongs after which a server is dead. */
export const MAX_MISSED_PONGS = 3;

/** Close codes of the control channel (docs/api.md#control-channel). */
export const ControlCloseCodes = {
  GOING_AWAY: CloseCodes.GOING_AWAY,
  PROTOCOL_ERROR: CloseCodes.PROTOCOL_ERROR,
  UNSUPPORTED_VERSION: CloseCodes.UNSUPPORTED_VERSION,
  REGISTER_TIMEOUT: CloseCodes.HANDSHAKE_TIMEOUT,
  REPLACED: CloseCodes.DUPLICATE_LOGIN,
  SHUTDOWN: CloseCodes.SHUTTING_DOWN,
} as const;

export interface ControlChannelOptions {
  registry: ServerRegistry;
  ledger: SeatLedger;
  ticketKey: TicketPublicJwk;
  clusterSecret: string;
  heartbeatIntervalMs: number;
  registerTimeoutMs: number;
  logger: Logger;
}

interface Connection {
  ws: WebSocket;
  serverId: string | undefined;
  missedPongs: number;
  /** Set when a newer connection took over its server id: its close must not unregister. */
  replaced: boolean;
  registerTimer: NodeJS.Timeout | undefined;
  heartbeat: NodeJS.Timeout | undefined;
  log: Logger;
}

/**
 * The WebSocket control channel dedicated servers keep open to the balancer: authenticated by the
 * cluster secret on upgrade, `register` first, then load reports and ticket redemptions; the balancer
 * pings every heartbeat interval and drops a server after MAX_MISSED_PONGS missed pongs.
 */
export class ControlChannel {
  readonly #o: ControlChannelOptions;
  readonly #wss: WebSocketServer;
  readonly #secretDigest: Buffer;
  readonly #connections = new Set<Connection>();
  readonly #byServer = new Map<string, Connection>();
  #closing = false;

  constructor(options: ControlChannelOptions) {
    this.#o = options;
    this.#secretDigest = digest(options.clusterSecret);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: CONTROL_MAX_PAYLOAD_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
  }

  /** Takes over `upgrade` requests on the HTTP server: CONTROL_PATH only, everything else is dropped. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
  }

  /** Connected, registered server ids. */
  connectedServers(): string[] {
    return [...this.#byServer.keys()];
  }

  /**
   * Sends a command to a server. `drain` and `shutdown` both stop new placements on it at once.
   * Returns false when the server is not connected.
   */
  sendCommand(serverId: string, command: CommandMessage['command']): boolean {
    const conn = this.#byServer.get(serverId);
    if (!conn) return false;
    this.#o.registry.setDraining(serverId, true);
    this.#send(conn, { type: 'command', command });
    conn.log.info({ command }, 'command sent');
    return true;
  }

  /** Closes every control socket with 1001 and stops accepting new ones. */
  async close(): Promise<void> {
    this.#closing = true;
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

  #authorized(header: string | undefined): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match?.[1]) return false;
    // Digests have equal length, so the comparison time does not depend on the guess.
    return timingSafeEqual(digest(match[1]), this.#secretDigest);
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const conn: Connection = {
      ws,
      serverId: undefined,
      missedPongs: 0,
      replaced: false,
      registerTimer: undefined,
      heartbeat: undefined,
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
    const { registry, ledger } = this.#o;
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
      clearTimeout(conn.registerTimer);
      conn.registerTimer = undefined;
      const previous = this.#byServer.get(message.serverId);
      if (previous) {
        previous.replaced = true;
        previous.log.warn('control connection replaced by a newer one for the same server id');
        this.#stopHeartbeat(previous);
        previous.ws.close(ControlCloseCodes.REPLACED, 'replaced by a newer connection');
      }
      conn.serverId = message.serverId;
      conn.log = conn.log.child({ serverId: message.serverId });
      this.#byServer.set(message.serverId, conn);
      this.#logConflicts(conn, registry.register(message));
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
        this.#logConflicts(
          conn,
          registry.applyLoad(serverId, message, (playgroundId) =>
            ledger.hasPendingFor(serverId, playgroundId),
          ),
        );
        return;
      case 'ticketRedeemed':
        if (ledger.redeem(serverId, message.jti)) registry.notePlayerJoined(serverId, message.playgroundId);
        return;
    }
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
    this.#o.ledger.dropServer(serverId);
    const dropped = this.#o.registry.remove(serverId);
    this.#o.logger.warn({ serverId, reason, playgrounds: dropped }, 'dedicated server removed');
  }

  #startHeartbeat(conn: Connection): void {
    conn.heartbeat = setInterval(() => {
      if (conn.missedPongs >= MAX_MISSED_PONGS) {
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

  #send(conn: Connection, message: BalancerToServer): void {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    conn.ws.send(JSON.stringify(message));
  }

  #logConflicts(conn: Connection, conflicts: MappingConflict[]): void {
    if (conflicts.length === 0) return;
    conn.log.warn(
      { conflicts: conflicts.slice(0, 10), count: conflicts.length },
      'playground reported by two servers',
    );
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
