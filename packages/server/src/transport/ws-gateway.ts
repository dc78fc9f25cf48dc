import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@plexus/kit';
import { CloseCodes, ErrorCodes } from '@plexus/protocol';
import { WebSocketServer } from 'ws';
import { ClientConnection, type ConnectionContext, sendErrorFrame } from './client-connection.ts';

/** Path of the client WebSocket on the server's HTTP port. */
export const CLIENT_WS_PATH = '/ws';

export interface GatewayOptions {
  server: Server;
  maxFrameBytes: number;
  logger: Logger;
  context: Omit<ConnectionContext, 'onClosed'>;
  /** Client ids, shared with the host (users restored from a checkpoint take ids from it too). */
  allocateClientId: () => number;
}

/**
 * Accepts client sockets on the HTTP server's `upgrade` at `/ws` (binary frames, no compression,
 * bounded payload) and hands each to a ClientConnection, after the per-address limits.
 */
export class WsGateway {
  private readonly options: GatewayOptions;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<ClientConnection>();
  private readonly context: ConnectionContext;
  private accepting = true;
  private readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

  constructor(options: GatewayOptions) {
    this.options = options;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.context = { ...options.context, onClosed: (conn) => this.connections.delete(conn) };
    this.onUpgrade = (req, socket, head) => this.upgrade(req, socket, head);
    options.server.on('upgrade', this.onUpgrade);
  }

  get size(): number {
    return this.connections.size;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A named function, not a closure here: a closure would keep this scope (the request with
    // all its headers, the head buffer) alive for the socket's whole life.
    socket.on('error', destroyOnError);
    const path = (req.url ?? '').split('?')[0];
    if (path !== CLIENT_WS_PATH) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (!this.accepting) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const limits = this.context.limits;
      const refusal = limits.open(address);
      if (refusal) {
        const name = 'PROTOCOL_TOO_MANY_CONNECTIONS';
        this.context.metrics.framesRefused.inc({ error: name });
        this.options.logger.info({ address, limit: refusal, error: name }, 'connection refused');
        ws.on('error', () => {});
        sendErrorFrame(ws, name, `${ErrorCodes[name].message} (${refusal})`);
        ws.close(CloseCodes.TOO_MANY_CONNECTIONS, name);
        setTimeout(() => ws.terminate(), 2_000).unref();
        return;
      }
      const clientId = this.options.allocateClientId();
      const log = this.options.logger.child({ clientId });
      const conn = new ClientConnection(ws, socket, clientId, address, this.context, log);
      this.connections.add(conn);
      log.debug({ address }, 'socket open');
    });
  }

  /** Stops accepting sockets; existing ones are left to the caller. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /**
   * Closes every socket: ERROR SHUTTING_DOWN then 1001. Resolves when all closed (or after
   * `timeoutMs`, when the rest are terminated).
   */
  async closeAll(timeoutMs = 2_000): Promise<void> {
    this.accepting = false;
    const sockets = [...this.connections].map((c) => c.ws);
    for (const conn of [...this.connections]) {
      conn.refuse('PROTOCOL_SHUTTING_DOWN', undefined, CloseCodes.GOING_AWAY);
    }
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const timer = setTimeout(() => {
              ws.terminate();
              resolve();
            }, timeoutMs);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await this.closeAll();
    this.options.server.off('upgrade', this.onUpgrade);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
