import type { Duplex } from 'node:stream';

/**
 * Server → client WebSocket framing of the frames many clients get (docs/architecture.md, "The walk
 * of one avatar move"): a STATE delta shared by a dense room is framed once and the same bytes go to
 * every socket, instead of ws framing it again per client. Server frames are never masked (RFC 6455
 * §5.1), so a frame is a 2, 4 or 10-byte header and the payload; building it as one buffer makes
 * each send one socket write.
 */

/** FIN + binary opcode (RFC 6455 §5.2). */
const FIN_BINARY = 0x82;

/** Bytes of the header of an unmasked frame of `n` payload bytes. */
function headerBytesOf(n: number): number {
  return n < 126 ? 2 : n < 0x10000 ? 4 : 10;
}

/** Writes the header of an unmasked, final, binary frame of `n` payload bytes at the start of `out`. */
function writeHeader(out: Buffer, n: number): void {
  out[0] = FIN_BINARY;
  if (n < 126) {
    out[1] = n;
  } else if (n < 0x10000) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
}

/** One unmasked, final, binary WebSocket frame holding `payload`. */
export function frameBinary(payload: Uint8Array): Buffer {
  const n = payload.byteLength;
  const headerBytes = headerBytesOf(n);
  const out = Buffer.allocUnsafe(headerBytes + n);
  writeHeader(out, n);
  out.set(payload, headerBytes);
  return out;
}

/** Only the header of an unmasked, final, binary frame of `n` payload bytes. */
export function frameHeader(n: number): Buffer {
  const out = Buffer.allocUnsafe(headerBytesOf(n));
  writeHeader(out, n);
  return out;
}

/**
 * Payloads from this size on are not copied behind their header: the header and the payload go
 * to the socket as two chunks of one corked write (one writev). Below it the copy comes from
 * Node's shared Buffer pool (allocUnsafe under half of Buffer.poolSize); from it on, each copy is
 * a malloc of its own, released only when the garbage collector gets to it. A burst of joins sends
 * hundreds of keyframes and per-client deltas of tens of kilobytes, and their copies grew the
 * native heap for good (docs/operations.md, "Memory of a dedicated server").
 */
export const COPY_LIMIT_BYTES = 4 * 1024;

/**
 * The last payload framed and its frame (or, from {@link COPY_LIMIT_BYTES} on, its header): the
 * clients of one room get the same STATE object one after another in a tick, so one entry is the
 * whole cache. Only payloads nobody mutates come here (the replicator allocates each frame anew).
 */
let lastPayload: Uint8Array | null = null;
let lastFrame: Buffer | null = null;

/** `payload` framed, built once for consecutive sends of the same bytes. */
export function sharedFrame(payload: Uint8Array): Buffer {
  if (payload !== lastPayload || lastFrame === null) {
    lastFrame =
      payload.byteLength < COPY_LIMIT_BYTES ? frameBinary(payload) : frameHeader(payload.byteLength);
    lastPayload = payload;
  }
  return lastFrame;
}

/** Writes `payload` to `socket` as one binary frame, framed once for consecutive sends of it. */
export function writeSharedFrame(socket: Duplex, payload: Uint8Array): void {
  const framed = sharedFrame(payload);
  if (payload.byteLength < COPY_LIMIT_BYTES) {
    socket.write(framed);
    return;
  }
  socket.cork();
  socket.write(framed);
  socket.write(payload);
  socket.uncork();
}
