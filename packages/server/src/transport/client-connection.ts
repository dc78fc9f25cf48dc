import type { Logger } from '@plexus/kit';
import {
  type ClientFrame,
  type ClientFrameHandlers,
  ClientOp,
  CloseCodes,
  closeCodeFor,
  DecodeError,
  type DisplayProfile,
  decodeClientFrame,
  dispatchFrame,
  ErrorCodes,
  type ErrorName,
  encodeError,
  encodePong,
  encodeRedirect,
  encodeResult,
  encodeWelcome,
  isRequestFrame,
  PROTOCOL_VERSION,
  type Quat,
  type RedirectPayload,
  type Vec3,
  type Welcome,
} from '@plexus/protocol';
import WebSocket from 'ws';
import type { ServerConfig } from '../config.ts';
import type { ResumeTokens } from '../continuity/resume-tokens.ts';
import type { TicketVerifier, VerifiedTicket } from '../control/ticket-verifier.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { LeaveKind, Refusal, Room } from '../playground/playground-host.ts';
import type { Outcome, PlaygroundLogic } from '../playground/playground-logic.ts';
import type { Presence } from '../playground/room.ts';
import type { AddressLimits } from './address-limits.ts';
import { TokenBucket } from './rate-limiter.ts';

/** What a connection needs from the rest of the server. */
export interface ConnectionContext {
  config: ServerConfig;
  serverId: string;
  metrics: ServerMetrics;
  verifier: TicketVerifier;
  limits: AddressLimits;
  /** Null while HELLOs are accepted, else why not (not ready, draining). */
  joinGate(): ErrorName | null;
  /** Admits a verified ticket (replay, capacity, claim, resume, duplicate login); null on success. */
  admit(conn: ClientConnection, ticket: VerifiedTicket): Promise<Refusal | null>;
  /** Ends the connection's membership (its avatar goes, or waits for a resume). Idempotent. */
  leave(conn: ClientConnection, kind: LeaveKind): void;
  /** Issues the resume token of every WELCOME; without it WELCOME carries none. */
  resumeTokens?: ResumeTokens;
  /** A HELLO was refused (analytics); `ticket` when it had verified. */
  joinRefused?(name: ErrorName, ticket: VerifiedTicket | null): void;
  /** Monotonic clock (ms) for rates and speeds. */
  now(): number;
  /** Wall clock (ms since epoch) for serverTimeMs. */
  wallClock(): number;
  onClosed(conn: ClientConnection): void;
}

export interface QueuedMove {
  position: Vec3;
  rotation: Quat;
}

type State = 'handshake' | 'verifying' | 'open' | 'closed';

/** Bound of queued moves per client: at most one per owned entity, and never more than this. */
const MAX_QUEUED_MOVES = 64;
/** Bound of server MESSAGEs and EVENTs held for a client between its admission and its WELCOME. */
const MAX_HELD_MESSAGES = 64;
const MAX_HELD_EVENTS = 256;

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
 * One client socket: handshake (HELLO within the deadline, ticket checks), then MOVE / PING /
 * LEAVE with rate and idle limits. Every fatal problem is one ERROR frame and a close code, and
 * affects this socket only.
 */
export class ClientConnection {
  readonly clientId: number;
  readonly address: string;
  readonly ws: WebSocket;
  private readonly ctx: ConnectionContext;
  private readonly bucket: TokenBucket;
  log: Logger;
  private state: State = 'handshake';
  private pending = true;
  private handshakeTimer: NodeJS.Timeout | null;
  private idleTimer: NodeJS.Timeout | null = null;

  // Set on admission by the host.
  room: Room | null = null;
  userId = '';
  avatarId = 0;
  /** The user's stay (kept across resumes), from the admission on. */
  presence: Presence | null = null;
  /** This admission resumed an earlier presence (WELCOME.resumed). */
  resumed = false;
  /** How the connection ended, once decided (a socket closing by itself is a drop). */
  private leaveKind: LeaveKind | null = null;
  /** The verified ticket, from the HELLO on (its profile travels with a drain). */
  ticket: VerifiedTicket | null = null;
  /** False until WELCOME and the first keyframe went out (at the tick after admission). */
  welcomed = false;
  /** A delta was skipped (backpressure): the next frame this client gets is a keyframe. */
  needsKeyframe = false;
  /** Since when the client has been above the buffered-bytes bound (ms, monotonic), or null. */
  stuckSince: number | null = null;
  /** Latest accepted move per owned entity, applied at the next tick. */
  readonly moves = new Map<number, QueuedMove>();
  /** Server MESSAGEs sent by playground logic before WELCOME went out (flushed right after it). */
  private held: Uint8Array[] = [];
  /** EVENT frames for the client before WELCOME went out (its offline inbox among them). */
  private heldEvents: Uint8Array[] = [];

  constructor(ws: WebSocket, clientId: number, address: string, ctx: ConnectionContext, log: Logger) {
    this.ws = ws;
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
    this.idleTimer?.refresh();
    if (!isBinary) {
      this.refuse('PROTOCOL_MALFORMED_FRAME', 'Text frames are not part of the protocol');
      return;
    }
    let frame: ClientFrame;
    try {
      frame = decodeClientFrame(data);
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
    this.endHandshake();
    this.idleTimer = setTimeout(() => this.refuse('PROTOCOL_IDLE_TIMEOUT'), this.ctx.config.idleTimeoutMs);
  }

  /** Runs the HELLO checks in order and admits the client; the refusal, or null when admitted. */
  private async checkHello(
    protocolVersion: number,
    ticket: string,
  ): Promise<{ name: ErrorName; message?: string } | null> {
    if (protocolVersion !== PROTOCOL_VERSION) {
      return {
        name: 'PROTOCOL_UNSUPPORTED_VERSION',
        message: `This server speaks protocol version ${PROTOCOL_VERSION}, not ${protocolVersion}`,
      };
    }
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
    [ClientOp.MOVE]: (f) => this.onMove(f.entityId, f.position, f.rotation),
    [ClientOp.PING]: (f) => this.send(encodePong(f.clientTimeMs, this.ctx.wallClock())),
    [ClientOp.LEAVE]: () => {
      this.log.info('client left');
      this.leaveKind = 'leave';
      this.close(CloseCodes.NORMAL, 'leave');
    },
    [ClientOp.SET_ENTITY]: (f) =>
      this.withLogic(f, (logic) => {
        const change = {
          ...(f.position ? { position: f.position } : {}),
          ...(f.rotation ? { rotation: f.rotation } : {}),
          ...(f.props ? { props: f.props } : {}),
        };
        const verdict = logic.setEntity(this.clientId, f.entityId, change, this.moves.get(f.entityId));
        if (!verdict.ok) this.notify(verdict.error, verdict.message);
        else if (verdict.position) this.queueMove(f.entityId, verdict.position, verdict.rotation);
      }),
    [ClientOp.SPAWN]: (f) =>
      this.withLogic(f, (logic) => this.sendResult(f.requestId, logic.spawnRequest(this.clientId, f))),
    [ClientOp.DESPAWN]: (f) =>
      this.withLogic(f, (logic) =>
        this.sendResult(f.requestId, logic.despawnRequest(this.clientId, f.entityId)),
      ),
    [ClientOp.AUTHORITY]: (f) =>
      this.withLogic(f, (logic) =>
        this.sendResult(
          f.requestId,
          logic.authorityRequest(this.clientId, f.action, f.entityId, f.targetClientId),
        ),
      ),
    [ClientOp.MESSAGE]: (f) =>
      this.withLogic(f, (logic) => {
        const outcome = logic.message(this.clientId, f.type, f.payload);
        if (!outcome.ok) this.notify(outcome.error, outcome.message);
      }),
  };

  /**
   * Entity, authority and message frames: the playground's logic decides. A draining playground
   * takes no more input: its final checkpoint is being written and moved.
   */
  private withLogic(frame: ClientFrame, run: (logic: PlaygroundLogic) => void): void {
    const logic = this.room?.logic;
    if (!logic) return;
    if (this.room?.state === 'live') {
      run(logic);
    } else if (isRequestFrame(frame)) {
      // Requests still get their one RESULT (the client may be waiting on it); the rest is dropped.
      this.sendResult(frame.requestId, {
        ok: false,
        error: 'PROTOCOL_SHUTTING_DOWN',
        message: 'The playground is moving to another server',
      });
    }
  }

  private onMove(entityId: number, position: Vec3, rotation: Quat): void {
    const logic = this.room?.logic;
    if (!logic || this.room?.state !== 'live') return;
    const verdict = logic.checkMove(this.clientId, entityId, position, rotation);
    if (!verdict.ok) {
      this.notify(verdict.error, verdict.message);
      return;
    }
    this.queueMove(entityId, verdict.position, verdict.rotation);
  }

  private queueMove(entityId: number, position: Vec3, rotation: Quat): void {
    if (!this.moves.has(entityId) && this.moves.size >= MAX_QUEUED_MOVES) return;
    this.moves.set(entityId, { position, rotation });
  }

  /** The one RESULT frame of a request: code 0 and the entity id, or the error's code and message. */
  private sendResult(requestId: number, outcome: Outcome): void {
    if (outcome.ok) {
      this.send(encodeResult(requestId, 0, outcome.value, ''));
      return;
    }
    this.ctx.metrics.framesRefused.inc({ error: outcome.error });
    this.log.debug({ error: outcome.error, reason: outcome.message, requestId }, 'request refused');
    this.send(encodeResult(requestId, ErrorCodes[outcome.error].code, 0, outcome.message));
  }

  /** A server MESSAGE from playground logic: held until WELCOME went out, then sent in order. */
  sendMessage(bytes: Uint8Array): void {
    if (this.welcomed) {
      this.send(bytes);
    } else if (this.held.length < MAX_HELD_MESSAGES) {
      this.held.push(bytes);
    } else {
      this.log.debug('message dropped: too many before WELCOME');
    }
  }

  /** An EVENT frame: held until WELCOME went out, then sent in order. */
  sendEvent(bytes: Uint8Array): void {
    if (this.welcomed) {
      this.send(bytes);
    } else if (this.heldEvents.length < MAX_HELD_EVENTS) {
      this.heldEvents.push(bytes);
    } else {
      this.log.debug('event dropped: too many before WELCOME');
    }
  }

  /** Called by the host on the tick after admission. */
  sendWelcome(playgroundId: string, keyframe: Uint8Array): void {
    const { config } = this.ctx;
    const welcome: Welcome = {
      protocolVersion: PROTOCOL_VERSION,
      clientId: this.clientId,
      selfId: this.avatarId,
      playgroundId,
      serverId: this.ctx.serverId,
      tickRateHz: config.tickRateHz,
      serverTimeMs: this.ctx.wallClock(),
      resumed: this.resumed,
    };
    const tokens = this.ctx.resumeTokens;
    if (tokens) welcome.resumeToken = tokens.issue(this.userId, playgroundId, this.avatarId);
    this.send(encodeWelcome(welcome));
    this.send(keyframe);
    this.welcomed = true;
    this.needsKeyframe = false;
    const held = this.held;
    this.held = [];
    for (const bytes of held) this.send(bytes);
    const events = this.heldEvents;
    this.heldEvents = [];
    for (const bytes of events) this.send(bytes);
  }

  /** The user's display profile from their ticket (relocation tickets carry it). */
  get profile(): DisplayProfile | null {
    return this.ticket?.prof ?? null;
  }

  /**
   * The playground moved (drain): one REDIRECT with the new endpoint and ticket. The client closes
   * the socket once it switched; the presence travels with the playground's checkpoint.
   */
  redirect(payload: RedirectPayload): void {
    if (this.state === 'closed') return;
    this.leaveKind = 'moved';
    this.send(encodeRedirect(payload));
  }

  /** Closes a connection whose playground moved elsewhere (its presence is not ended here). */
  closeMoved(code: number, reason: string): void {
    this.leaveKind = 'moved';
    this.close(code, reason);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(bytes: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(bytes);
    this.ctx.metrics.bytesSent.inc(bytes.length);
  }

  /** A non-fatal error: one ERROR frame, the connection stays open. */
  notify(name: ErrorName, message?: string): void {
    this.ctx.metrics.framesRefused.inc({ error: name });
    this.log.debug({ error: name, reason: message }, 'frame refused');
    sendErrorFrame(this.ws, name, message);
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
    this.log.info({ code }, this.room ? 'client disconnected' : 'socket closed during handshake');
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
    this.held = [];
    this.heldEvents = [];
    // The host applies the moves still queued for this tick before the avatar's last place is taken.
    this.ctx.leave(this, this.leaveKind ?? 'drop');
    this.moves.clear();
    this.ctx.limits.closed(this.address, false);
    this.ctx.onClosed(this);
  }
}
