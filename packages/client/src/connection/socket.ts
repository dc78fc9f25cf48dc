import { CloseCodes, DecodeError, decodeServerFrame, type ServerFrame } from '@plexus/protocol';
import { PlexusError } from '../errors.ts';

/** The part of the WebSocket API the SDK uses (browsers' WebSocket, Node 24's global WebSocket). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A WebSocket constructor; inject one through the client options in runtimes without a global one. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

/** Callbacks of a {@link FrameSocket}. Exactly one `onClose` call ends the socket's life. */
export interface FrameSocketHandlers {
  onOpen(): void;
  onFrame(frame: ServerFrame): void;
  /** The socket is closed (by the server, the network, or locally); `error` explains abnormal ends. */
  onClose(code: number, reason: string, error?: PlexusError): void;
}

/**
 * A binary WebSocket that speaks the Plexus frame codec: decodes every incoming frame and hands it
 * to `onFrame`. A frame that does not decode (or a text frame) closes the socket with 4000 and ends
 * it with a PROTOCOL_MALFORMED_FRAME error; an exception thrown by a handler is contained the same
 * way, so nothing ever throws out of a WebSocket event.
 */
export class FrameSocket {
  private readonly ws: WebSocketLike;
  private readonly handlers: FrameSocketHandlers;
  private ended = false;
  /** Bytes of WebSocket messages received so far (payloads, before decoding); for bandwidth stats. */
  bytesReceived = 0;

  constructor(url: string, handlers: FrameSocketHandlers, WebSocketImpl?: WebSocketConstructor) {
    this.handlers = handlers;
    const Impl = WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) throw PlexusError.of('CLIENT_NETWORK_ERROR', 'No WebSocket implementation in this runtime');
    try {
      this.ws = new Impl(url);
    } catch (err) {
      throw PlexusError.of('CLIENT_NETWORK_ERROR', `Cannot open a WebSocket to ${url}`, { cause: err });
    }
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => {
      if (!this.ended) this.guard(() => this.handlers.onOpen());
    };
    this.ws.onmessage = (event) => this.receive(event.data);
    this.ws.onerror = () => {
      // The close event that always follows carries the code; nothing to do here.
    };
    this.ws.onclose = (event) => {
      const error =
        event.code === CloseCodes.NORMAL || event.code === CloseCodes.GOING_AWAY
          ? undefined
          : PlexusError.of(
              'CLIENT_CONNECTION_CLOSED',
              `Connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`,
            );
      this.end(event.code, event.reason, error);
    };
  }

  /** True while the socket is open and not ended. */
  get isOpen(): boolean {
    return !this.ended && this.ws.readyState === OPEN;
  }

  /** Sends one binary frame; returns false (and sends nothing) when the socket is not open. */
  send(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    try {
      this.ws.send(bytes);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Closes the socket locally and ends it at once with `code`/`reason`/`error` (the server's close
   * acknowledgement is not awaited).
   */
  close(code: number = CloseCodes.NORMAL, reason = '', error?: PlexusError): void {
    if (this.ended) return;
    try {
      this.ws.close(code, reason);
    } catch {
      // Already closing: the end below is what counts.
    }
    this.end(code, reason, error);
  }

  /** Closes with 4000 after a protocol violation by the server. */
  fail(error: PlexusError): void {
    this.close(CloseCodes.PROTOCOL_ERROR, error.message.slice(0, 120), error);
  }

  private receive(data: unknown): void {
    if (this.ended) return;
    let frame: ServerFrame;
    try {
      const bytes = toBytes(data);
      if (!bytes) throw new DecodeError('expected a binary frame');
      this.bytesReceived += bytes.byteLength;
      frame = decodeServerFrame(bytes);
    } catch (err) {
      this.fail(
        PlexusError.of('PROTOCOL_MALFORMED_FRAME', `Malformed frame from server: ${(err as Error).message}`, {
          cause: err,
        }),
      );
      return;
    }
    this.guard(() => this.handlers.onFrame(frame));
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const error =
        err instanceof PlexusError
          ? err
          : PlexusError.of('PROTOCOL_MALFORMED_FRAME', `Cannot handle frame: ${(err as Error)?.message}`, {
              cause: err,
            });
      this.fail(error);
    }
  }

  private end(code: number, reason: string, error?: PlexusError): void {
    if (this.ended) return;
    this.ended = true;
    this.ws.onopen = null;
    this.ws.onmessage = null;
    // Not null: closing a socket that is still connecting makes Node's ws emit an error after
    // this, and an error with no listener would be an uncaught exception in the app.
    this.ws.onerror = ignoreLateError;
    this.ws.onclose = null;
    try {
      this.handlers.onClose(code, reason, error);
    } catch {
      // A handler must not throw out of a WebSocket event.
    }
  }
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

/** Swallows the error a socket may still emit after the session ended it (see `end`). */
function ignoreLateError(): void {}
