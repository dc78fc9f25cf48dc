import {
  decodeServerFrame,
  encodeHello,
  encodeLeave,
  encodeMove,
  encodePing,
  PROTOCOL_VERSION,
  type Quat,
  ServerOp,
  type Vec3,
} from '@plexus/protocol';
import WebSocket from 'ws';

/** What a light bot reports back to its swarm. */
export interface LightBotEvents {
  /** A server ERROR frame after the join (decoded for its name and message). */
  error(message: string): void;
  /** The connection ended after the join. */
  lost(): void;
}

/** How long a LEAVE may take to be answered by the server's close before the socket is cut, ms. */
const LEAVE_TIMEOUT_MS = 2000;

/**
 * A light bot's connection: it joins with HELLO like any client and decodes frames until the welcome
 * keyframe holds its own avatar; from then on it only counts the bytes it receives, so that one
 * process can drive thousands of clients whose combined updates it could not decode.
 */
export class LightBot {
  /** Bytes of the WebSocket messages received, handshake included. */
  bytes = 0;
  entityId = -1;
  /** The avatar's spawn position once the welcome keyframe arrived; rejects on an ERROR, a close or the timeout before that. */
  readonly joined: Promise<{ x: number; z: number }>;
  private readonly ws: WebSocket;

  /** Opens `endpoint` and joins with `ticket` (see {@link joined}). */
  constructor(endpoint: string, ticket: string, timeoutMs: number, events: LightBotEvents) {
    // The server sends binary frames only, so ws's UTF-8 validation never runs, and the default
    // random mask costs less than no mask: ws masks a small frame into the one buffer it writes,
    // where an all-zero mask makes it write header and payload as two chunks (measured: ~1 µs more
    // user time per MOVE with ws 8.23).
    const ws = new WebSocket(endpoint, { perMessageDeflate: false });
    this.ws = ws;
    this.joined = new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(
        () => fail(new Error(`no welcome keyframe within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      const handshake = (data: Buffer) => {
        this.bytes += data.length;
        let frame: ReturnType<typeof decodeServerFrame>;
        try {
          frame = decodeServerFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        } catch (err) {
          fail(err as Error);
          return;
        }
        if (frame.op === ServerOp.WELCOME) this.entityId = frame.welcome.selfId;
        else if (frame.op === ServerOp.ERROR) fail(new Error(`${frame.name}: ${frame.message}`));
        else if (frame.op === ServerOp.STATE && frame.keyframe && this.entityId >= 0) {
          const self = frame.spawns.find((s) => s.id === this.entityId);
          settled = true;
          clearTimeout(timer);
          // From here on nothing is decoded: only the first byte tells an ERROR from the updates.
          ws.off('message', handshake);
          ws.on('message', (bytes: Buffer) => {
            this.bytes += bytes.length;
            if (bytes[0] === ServerOp.ERROR) events.error(describeError(bytes));
          });
          resolve({ x: self?.position.x ?? 0, z: self?.position.z ?? 0 });
        }
      };
      ws.on('open', () => ws.send(encodeHello(PROTOCOL_VERSION, ticket)));
      ws.on('error', (err) => fail(err));
      ws.on('close', (code, reason) => {
        if (!settled) fail(new Error(`closed (${code} ${reason.toString()}) before the welcome keyframe`));
        else events.lost();
      });
      ws.on('message', handshake);
    });
  }

  move(position: Vec3, rotation: Quat): void {
    this.ws.send(encodeMove(this.entityId, position, rotation));
  }

  ping(nowMs: number): void {
    this.ws.send(encodePing(nowMs));
  }

  /** Sends LEAVE and waits for the server's close (cutting the socket after {@link LEAVE_TIMEOUT_MS}). */
  leave(): Promise<void> {
    const ws = this.ws;
    if (ws.readyState !== WebSocket.OPEN) {
      ws.terminate();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, LEAVE_TIMEOUT_MS);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.send(encodeLeave());
    });
  }
}

function describeError(data: Buffer): string {
  try {
    const frame = decodeServerFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (frame.op === ServerOp.ERROR) return `${frame.name}: ${frame.message}`;
  } catch {
    // Counted as bytes; a malformed error frame is not worth more.
  }
  return 'malformed ERROR frame';
}
