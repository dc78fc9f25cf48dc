import type { Duplex } from 'node:stream';
import type { Logger } from '@plexus/kit';
import {
  type ClientFrame,
  type ClientFrameHandlers,
  ClientOp,
  CloseCodes,
  closeCodeFor,
  DecodeError,
  decodeClientFrame,
  decodeMoveInto,
  dispatchFrame,
  ErrorCodes,
  type ErrorName,
  emptyMoveFrame,
  encodeError,
  encodePong,
  encodeWelcome,
  MOVE_ACK_VERSION,
  type MoveFrame,
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Welcome,
} from '@plexus/protocol';
import WebSocket from 'ws';
import type { ServerConfig } from '../config.ts';
import type { TicketVerifier, VerifiedTicket } from '../control/ticket-verifier.ts';
import { TokenBucket } from '../limits/rate-limiter.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { AddressLimits } from './address-limits.ts';
import type { LeaveKind, MemberLink, PlaygroundFrame, Refusal, WelcomeInfo } from './link.ts';
import { writeSharedFrame } from './ws-frame.ts';

/** What a connection needs from the rest of the server. */
export interface ConnectionContext {
  config: ServerConfig;
  serverId: string;
  metrics: ServerMetrics;
  verifier: TicketVerifier;
  limits: AddressLimits;
  /** Null while HELLOs are accepted, else why not (not ready, draining). */
  joinGate(): ErrorName | null;
  /**
   * Admits a verified ticket (replay, capacity, claim, resume, duplicate login): the connection
   * becomes a member of a room; null on success.
   */
  admit(conn: MemberLink, ticket: VerifiedTicket): Promise<Refusal | null>;
  /** A playground frame of an admitted connection, for its member (docs/architecture.md). */
  input(conn: MemberLink, frame: PlaygroundFrame): void;
  /** Ends the connection's membership (its avatar goes, or waits for a resume). Idempotent. */
  leave(conn: MemberLink, kind: LeaveKind): void;
  /** A HELLO was refused (analytics); `ticket` when it had verified. */
  joinRefused?(name: ErrorName, ticket: VerifiedTicket | null): void;
  /** Monotonic clock (ms) for rates and speeds. */
  now(): number;
  /** Wall clock (ms since epoch) for serverTimeMs. */
  wallClock(): number;
  onClosed(conn: ClientConnection): void;
}

type State = 'handshake' | 'verifying' | 'open' | 'closed';

/** How a fatal error ends the member's presence (see LeaveKind). */
function leaveKindOf(name: ErrorName): LeaveKind {
  switch (name) {
    case 'PROTOCOL_IDLE_TIMEOUT':
    case 'PROTOCOL_SLOW_CONSUMER':
      return 'drop'; // the client is likely gone or stuck: it may come back and resume
    case 'PROTOCOL_DUPLICATE_LOGIN':
      return 'replaced';
    case 'PROTOCOL_SHUTTING_DOWN':
    case 'PROTOCOL_PLAYGROUND_MOVED':
      return 'moved';
    default:
      return 'fatal';
  }
}
/** After a refusal the peer has this long to finish the close handshake before the socket is cut. */
const CLOSE_GRACE_MS = 2_000;

/** Sends one ERROR frame for a registry error, ignoring sockets that are no longer open. */
export function sendErrorFrame(ws: WebSocket, name: ErrorName, message?: string): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const spec = ErrorCodes[name];
  ws.send(encodeError(spec.code, name, message ?? spec.message));
}

/**
 * One client socket, pure transport: handshake (HELLO within the deadline, ticket checks, WELCOME),
 * then PING / LEAVE itself and every playground frame to its member, with rate and idle limits. It
 * knows no room: the room's member reaches it through {@link MemberLink}. Every fatal problem is one
 * ERROR frame and a close code, and affects this socket only.
 */
export class ClientConnection implements MemberLink {
  readonly clientId: number;
  readonly address: string;
  readonly ws: WebSocket;
  /** The socket under `ws`: STATE frames framed once (ws-frame.ts) are written to it directly. */
  private readonly socket: Duplex;
  private readonly ctx: ConnectionContext;
  private readonly bucket: TokenBucket;
  log: Logger;
  private state: State = 'handshake';
  private pending = true;
  private handshakeTimer: NodeJS.Timeout | null;
  private idleTimer: NodeJS.Timeout | null = null;
  /**
   * performance.now() of the last frame: the idle deadline counts from it. Checked when the timer
   * fires rather than re-arming the timer on each of the ~20 frames a second of a moving client.
   */
  private lastFrameAt = 0;
  /** Admitted into a room (how its close is logged). */
  private admitted = false;
  /** How the connection ended, once decided (a socket closing by itself is a drop). */
  private leaveKind: LeaveKind | null = null;
  /** The verified ticket, from the HELLO on. */
  private ticket: VerifiedTicket | null = null;
  /** The version of this session: the one the HELLO announced, once accepted. */
  protocolVersion = PROTOCOL_VERSION;
  /**
   * Every MOVE is decoded into this one frame: it is most of what a moving client sends (~20 a
   * second). Nothing downstream keeps it or its objects past the frame's dispatch (the member
   * copies an accepted move into its queue).
   */
  private readonly moveFrame: MoveFrame = emptyMoveFrame();

  constructor(
    ws: WebSocket,
    socket: Duplex,
    clientId: number,
    address: string,
    ctx: ConnectionContext,
    log: Logger,
  ) {
    this.ws = ws;
    this.socket = socket;
    this.clientId = clientId;
    this.address = address;
    this.ctx = ctx;
    this.log = log;
    const { config } = ctx;
    this.bucket = new TokenBucket(config.rateLimitPerSec, config.rateLimitBurst, () => ctx.now());
    this.handshakeTimer = setTimeout(
      () => this.refuse('PROTOCOL_HANDSHAKE_TIMEOUT'),
      config.handshakeTimeoutMs,
    );
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    // ws reports oversized / invalid frames here and closes the socket itself (1009, 1002…).
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    ws.on('close', (code) => this.onSocketClose(code));
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    if (!this.bucket.take()) {
      this.refuse('PROTOCOL_RATE_LIMITED');
      return;
    }
    this.lastFrameAt = performance.now();
    if (!isBinary) {
      this.refuse('PROTOCOL_MALFORMED_FRAME', 'Text frames are not part of the protocol');
      return;
    }
    let frame: ClientFrame;
    try {
      frame = data[0] === ClientOp.MOVE ? decodeMoveInto(data, this.moveFrame) : decodeClientFrame(data);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.refuse('PROTOCOL_MALFORMED_FRAME', err.message);
      return;
    }
    switch (this.state) {
      case 'handshake':
        if (frame.op !== ClientOp.HELLO) {
          this.refuse('PROTOCOL_UNEXPECTED_FRAME', 'HELLO must come first');
          return;
        }
        this.state = 'verifying';
        this.onHello(frame.protocolVersion, frame.ticket).catch((err: unknown) => {
          this.log.error({ err }, 'handshake failed');
          this.refuse('PROTOCOL_TICKET_INVALID');
        });
        return;
      case 'verifying':
        this.refuse('PROTOCOL_UNEXPECTED_FRAME', 'Wait for WELCOME before sending more frames');
        return;
      case 'open':
        dispatchFrame(this.handlers, frame);
        return;
    }
  }

  private async onHello(protocolVersion: number, ticket: string): Promise<void> {
    const refusal = await this.checkHello(protocolVersion, ticket);
    if (this.state !== 'verifying') return; // closed (timeout, peer) meanwhile
    if (refusal) {
      this.ctx.joinRefused?.(refusal.name, this.ticket);
      this.refuse(refusal.name, refusal.message);
      return;
    }
    this.state = 'open';
    this.admitted = true;
    this.endHandshake();
    this.lastFrameAt = performance.now();
    this.armIdle(this.ctx.config.idleTimeoutMs);
  }

  private armIdle(delayMs: number): void {
    this.idleTimer = setTimeout(() => this.checkIdle(), delayMs);
  }

  /** The idle deadline came: refused if no frame came since, else the deadline moves on. */
  private checkIdle(): void {
    if (this.state === 'closed') return;
    const limitMs = this.ctx.config.idleTimeoutMs;
    const quietMs = performance.now() - this.lastFrameAt;
    if (quietMs >= limitMs) this.refuse('PROTOCOL_IDLE_TIMEOUT');
    else this.armIdle(Math.max(1, limitMs - quietMs));
  }

  /** Runs the HELLO checks in order and admits the client; the refusal, or null when admitted. */
  private async checkHello(
    protocolVersion: number,
    ticket: string,
  ): Promise<{ name: ErrorName; message?: string } | null> {
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion)) {
      return {
        name: 'PROTOCOL_UNSUPPORTED_VERSION',
        message: `This server speaks protocol versions ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}, not ${protocolVersion}`,
      };
    }
    this.protocolVersion = protocolVersion;
    const gate = this.ctx.joinGate();
    if (gate) return { name: gate };
    const verdict = await this.ctx.verifier.verify(ticket);
    if (this.state !== 'verifying') return null;
    if (!verdict.ok) return { name: verdict.error };
    this.ticket = verdict.claims;
    // The gate again: a drain may have started during verification.
    const gateAfter = this.ctx.joinGate();
    if (gateAfter) return { name: gateAfter };
    return this.ctx.admit(this, verdict.claims);
  }

  /** One handler per client opcode (the frame table of docs/protocol.md §3). */
  private readonly handlers: ClientFrameHandlers = {
    [ClientOp.HELLO]: () => this.refuse('PROTOCOL_UNEXPECTED_FRAME', 'HELLO was already accepted'),
    [ClientOp.PING]: (f) => this.send(encodePong(f.clientTimeMs, this.ctx.wallClock())),
    [ClientOp.LEAVE]: () => {
      this.log.info('client left');
      this.leaveKind = 'leave';
      this.close(CloseCodes.NORMAL, 'leave');
    },
    [ClientOp.MOVE]: (f) => this.toMember(f),
    [ClientOp.SET_ENTITY]: (f) => this.toMember(f),
    [ClientOp.SPAWN]: (f) => this.toMember(f),
    [ClientOp.DESPAWN]: (f) => this.toMember(f),
    [ClientOp.AUTHORITY]: (f) => this.toMember(f),
    [ClientOp.MESSAGE]: (f) => this.toMember(f),
  };

  /** Moves, entity, authority and message frames: the member's playground decides. */
  private toMember(frame: PlaygroundFrame): void {
    this.ctx.input(this, frame);
  }

  /** The WELCOME of the handshake (sent by the member's room at admission), then its keyframe. */
  sendWelcome(info: WelcomeInfo, keyframe: Uint8Array): void {
    const { config } = this.ctx;
    const welcome: Welcome = {
      protocolVersion: this.protocolVersion,
      clientId: this.clientId,
      selfId: info.selfId,
      playgroundId: info.playgroundId,
      serverId: this.ctx.serverId,
      tickRateHz: config.tickRateHz,
      serverTimeMs: this.ctx.wallClock(),
      resumed: info.resumed,
    };
    if (info.resumeToken !== undefined) welcome.resumeToken = info.resumeToken;
    // A v2 client gets the WELCOME of today; from v3 on the version also trails the body (§8).
    const trailing = this.protocolVersion >= MOVE_ACK_VERSION ? this.protocolVersion : undefined;
    // WELCOME, the keyframe and what the member held for them leave in one socket write.
    this.socket.cork();
    process.nextTick(uncork, this.socket);
    this.send(encodeWelcome(welcome, trailing));
    this.sendState(keyframe);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(bytes: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(bytes);
    this.ctx.metrics.bytesSent.inc(bytes.length);
  }

  /**
   * A STATE frame, framed once for every client that gets the same bytes and written to the socket
   * in one write (a large one behind its header, uncopied), past ws's per-send framing. Safe beside ws.send: without compression ws writes
   * each frame synchronously, so frames keep their order; bufferedAmount still counts these bytes.
   * A trailer goes in the same kernel write (corked), not a second one.
   */
  sendState(bytes: Uint8Array, trailer?: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (!trailer) {
      writeSharedFrame(this.socket, bytes);
      this.ctx.metrics.bytesSent.inc(bytes.length);
      return;
    }
    this.socket.cork();
    writeSharedFrame(this.socket, bytes);
    this.ctx.metrics.bytesSent.inc(bytes.length);
    this.send(trailer);
    this.socket.uncork();
  }

  /**
   * A fatal error: one ERROR frame then the close code of `name` (or `closeCode`). The avatar is
   * removed; nothing else on the server is affected.
   */
  refuse(name: ErrorName, message?: string, closeCode?: number): void {
    if (this.state === 'closed') return;
    this.ctx.metrics.framesRefused.inc({ error: name });
    this.log.info({ error: name, reason: message, address: this.address }, 'connection refused');
    this.leaveKind ??= leaveKindOf(name);
    sendErrorFrame(this.ws, name, message);
    this.close(closeCode ?? closeCodeFor[name] ?? CloseCodes.POLICY_VIOLATION, name);
  }

  /** Closes the socket with `code` and releases everything the connection held. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.teardown();
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason.slice(0, 120));
      // A peer that never answers the close handshake does not keep the socket alive.
      setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    }
  }

  private onSocketClose(code: number): void {
    if (this.state === 'closed') return;
    this.log.info({ code }, this.admitted ? 'client disconnected' : 'socket closed during handshake');
    this.teardown();
  }

  private endHandshake(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    if (this.pending) {
      this.pending = false;
      this.ctx.limits.handshakeDone(this.address);
    }
  }

  private teardown(): void {
    this.state = 'closed';
    this.endHandshake();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    // The member's moves still queued for this tick land before the avatar's last place is taken.
    this.ctx.leave(this, this.leaveKind ?? 'drop');
    this.ctx.limits.closed(this.address, false);
    this.ctx.onClosed(this);
  }
}

function uncork(socket: Duplex): void {
  socket.uncork();
}
