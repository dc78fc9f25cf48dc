import {
  CloseCodes,
  encodeHello,
  PROTOCOL_VERSION,
  type ServerFrame,
  ServerOp,
  type StateFrame,
  type Welcome,
} from '@plexus/protocol';
import { PlexusError } from '../errors.ts';
import { FrameSocket, type WebSocketConstructor } from './socket.ts';

/** Where to connect: a dedicated server's WebSocket URL and a join ticket for it. */
export interface LinkTarget {
  endpoint: string;
  ticket: string;
}

/** Options of {@link Link.open}. */
export interface LinkOptions {
  WebSocket?: WebSocketConstructor | undefined;
  /** Deadline for WELCOME + the first keyframe after the socket is created, ms. */
  timeoutMs: number;
  /** Aborts the handshake: the socket is closed and the promise rejects. */
  signal?: AbortSignal | undefined;
}

/** Receives what happens on a link once its owner attached. */
export interface LinkSink {
  frame(frame: ServerFrame): void;
  /** The socket ended (exactly once); `error` explains abnormal ends. */
  closed(code: number, reason: string, error?: PlexusError): void;
}

/**
 * Frames held between the handshake and {@link Link.attach}: the WELCOME and keyframe are followed
 * at once by little more than a PONG or a queued event, and attach comes a microtask later.
 */
const MAX_HELD_FRAMES = 256;

/**
 * One joined connection to a dedicated server: opened by {@link Link.open}, which performs the
 * handshake (HELLO with the ticket → WELCOME → first STATE keyframe) and resolves with the welcome
 * and the keyframe. Frames that arrive before the owner {@link attach}es (and a close) are held and
 * replayed, so nothing is lost between the handshake and the owner taking over.
 */
export class Link {
  readonly endpoint: string;
  readonly welcome: Welcome;
  /**
   * The version of this session: what WELCOME says after its body, 2 when it says nothing (a
   * server of version 2). From 3 on moves carry sequence numbers (docs/protocol.md §8).
   */
  readonly protocolVersion: number;
  /** The first STATE frame: a keyframe of everything the client sees. */
  readonly keyframe: StateFrame;
  private readonly socket: FrameSocket;
  private sink: LinkSink | undefined;
  private held: ServerFrame[];
  private heldClose: { code: number; reason: string; error?: PlexusError | undefined } | undefined;

  private constructor(
    endpoint: string,
    socket: FrameSocket,
    welcome: Welcome,
    protocolVersion: number,
    keyframe: StateFrame,
  ) {
    this.endpoint = endpoint;
    this.socket = socket;
    this.welcome = welcome;
    this.protocolVersion = protocolVersion;
    this.keyframe = keyframe;
    this.held = [];
    this.heldClose = undefined;
    this.sink = undefined;
  }

  /**
   * Opens a WebSocket to `target.endpoint`, sends HELLO with `target.ticket` and resolves once
   * WELCOME and the first STATE keyframe are in. Rejects with a PlexusError on an ERROR frame (the
   * server's refusal: every error before the keyframe is fatal), a close, a malformed frame, the
   * deadline (CLIENT_TIMEOUT) or an abort.
   */
  static open(target: LinkTarget, options: LinkOptions): Promise<Link> {
    return new Promise<Link>((resolve, reject) => {
      let link: Link | undefined;
      let welcome: Welcome | undefined;
      let version = 2;
      let early: ServerFrame[] = [];
      let pending = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let socket: FrameSocket | undefined;
      const onAbort = (): void => {
        const error = PlexusError.of('CLIENT_CONNECTION_CLOSED', 'The connection attempt was cancelled');
        settle(error);
        socket?.close(CloseCodes.NORMAL, 'cancelled', error);
      };
      const settle = (error?: PlexusError): void => {
        if (!pending) return;
        pending = false;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(link as Link);
      };
      if (options.signal?.aborted) {
        reject(PlexusError.of('CLIENT_CONNECTION_CLOSED', 'The connection attempt was cancelled'));
        return;
      }

      try {
        socket = new FrameSocket(
          target.endpoint,
          {
            onOpen: () => {
              socket?.send(encodeHello(PROTOCOL_VERSION, target.ticket));
            },
            onFrame: (frame) => {
              if (link) {
                link.deliver(frame);
                return;
              }
              if (frame.op === ServerOp.ERROR) {
                // Before the join completes every error is fatal (bad ticket, full server, …).
                const error = PlexusError.fromFrame(frame);
                settle(error);
                socket?.close(CloseCodes.NORMAL, '', error);
                return;
              }
              if (frame.op === ServerOp.PONG) return;
              if (!welcome) {
                if (frame.op !== ServerOp.WELCOME) {
                  throw PlexusError.of(
                    'PROTOCOL_UNEXPECTED_FRAME',
                    `Frame 0x${frame.op.toString(16)} before WELCOME`,
                  );
                }
                welcome = checkWelcome(frame.welcome);
                version = frame.protocolVersion ?? 2;
                return;
              }
              if (frame.op === ServerOp.STATE) {
                if (!frame.keyframe) {
                  throw PlexusError.of(
                    'PROTOCOL_UNEXPECTED_FRAME',
                    'The first STATE after WELCOME is not a keyframe',
                  );
                }
                const { op: _op, ...state } = frame;
                link = new Link(target.endpoint, socket as FrameSocket, welcome, version, state);
                link.held = early;
                early = [];
                settle();
                return;
              }
              if (frame.op === ServerOp.WELCOME) {
                throw PlexusError.of('PROTOCOL_UNEXPECTED_FRAME', 'Second WELCOME from server');
              }
              if (early.length >= MAX_HELD_FRAMES) {
                throw PlexusError.of(
                  'PROTOCOL_UNEXPECTED_FRAME',
                  'Too many frames between WELCOME and the keyframe',
                );
              }
              early.push(frame);
            },
            onClose: (code, reason, error) => {
              if (link) {
                link.ended(code, reason, error);
                return;
              }
              settle(
                error ??
                  PlexusError.of(
                    'CLIENT_CONNECTION_CLOSED',
                    `Connection closed (${code}${reason ? `: ${reason}` : ''}) before the playground was joined`,
                  ),
              );
            },
          },
          options.WebSocket,
        );
      } catch (err) {
        reject(err);
        return;
      }
      options.signal?.addEventListener('abort', onAbort);
      timer = setTimeout(() => {
        const error = PlexusError.of(
          'CLIENT_TIMEOUT',
          `No welcome snapshot from ${target.endpoint} within ${options.timeoutMs} ms`,
        );
        settle(error);
        socket?.close(CloseCodes.NORMAL, 'join timeout', error);
      }, options.timeoutMs);
    });
  }

  /** True while the socket is open. */
  get isOpen(): boolean {
    return this.socket.isOpen;
  }

  /** Bytes of WebSocket messages received on this link so far. */
  get bytesReceived(): number {
    return this.socket.bytesReceived;
  }

  /** True while frames (or the close) wait for {@link attach}. */
  get holdsFrames(): boolean {
    return this.held.length > 0 || this.heldClose !== undefined;
  }

  /** Hands every later frame and the close to `sink`, first replaying what arrived meanwhile. */
  attach(sink: LinkSink): void {
    if (this.sink) throw new Error('Link already attached');
    this.sink = sink;
    const held = this.held;
    this.held = [];
    for (const frame of held) {
      // A frame handler may have closed the link: the rest is moot.
      if (this.heldClose === undefined && !this.socket.isOpen) break;
      sink.frame(frame);
    }
    const close = this.heldClose;
    if (close) sink.closed(close.code, close.reason, close.error);
  }

  /** Sends one frame; false when the socket is not open. */
  send(bytes: Uint8Array): boolean {
    return this.socket.send(bytes);
  }

  /** Closes the socket at once (the sink's `closed` runs synchronously, if attached). */
  close(code: number = CloseCodes.NORMAL, reason = '', error?: PlexusError): void {
    this.socket.close(code, reason, error);
  }

  private deliver(frame: ServerFrame): void {
    if (this.sink) {
      this.sink.frame(frame);
      return;
    }
    if (this.held.length >= MAX_HELD_FRAMES) {
      throw PlexusError.of('PROTOCOL_UNEXPECTED_FRAME', 'Too many frames before the playground took over');
    }
    this.held.push(frame);
  }

  private ended(code: number, reason: string, error?: PlexusError): void {
    if (this.sink) this.sink.closed(code, reason, error);
    else this.heldClose = { code, reason, error };
  }
}

function checkWelcome(welcome: Welcome): Welcome {
  const ok =
    Number.isInteger(welcome.clientId) &&
    Number.isInteger(welcome.selfId) &&
    typeof welcome.playgroundId === 'string' &&
    typeof welcome.serverId === 'string' &&
    typeof welcome.tickRateHz === 'number' &&
    welcome.tickRateHz > 0 &&
    (welcome.resumeToken === undefined || typeof welcome.resumeToken === 'string');
  if (!ok)
    throw PlexusError.of(
      'PROTOCOL_MALFORMED_FRAME',
      'WELCOME lacks clientId, selfId, playgroundId, serverId or tickRateHz',
    );
  return welcome;
}
