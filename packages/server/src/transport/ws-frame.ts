/**
 * Server → client WebSocket framing of the frames many clients get (docs/architecture.md, "The walk
 * of one avatar move"): a STATE delta shared by a dense room is framed once and the same bytes go to
 * every socket, instead of ws framing it again per client. Server frames are never masked (RFC 6455
 * §5.1), so a frame is a 2, 4 or 10-byte header and the payload; building it as one buffer makes
 * each send one socket write.
 */

/** FIN + binary opcode (RFC 6455 §5.2). */
const FIN_BINARY = 0x82;

/** One unmasked, final, binary WebSocket frame holding `payload`. */
export function frameBinary(payload: Uint8Array): Buffer {
  const n = payload.byteLength;
  const headerBytes = n < 126 ? 2 : n < 0x10000 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerBytes + n);
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
  out.set(payload, headerBytes);
  return out;
}

/**
 * The last payload framed and its frame: the clients of one room get the same STATE object one
 * after another in a tick, so one entry is the whole cache. Only payloads nobody mutates come
 * here (the replicator allocates each frame anew).
 */
let lastPayload: Uint8Array | null = null;
let lastFrame: Buffer | null = null;

/** `payload` framed, built once for consecutive sends of the same bytes. */
export function sharedFrame(payload: Uint8Array): Buffer {
  if (payload !== lastPayload || lastFrame === null) {
    lastFrame = frameBinary(payload);
    lastPayload = payload;
  }
  return lastFrame;
}
