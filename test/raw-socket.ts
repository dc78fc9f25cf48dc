import { decodeServerFrame, encodeHello, PROTOCOL_VERSION, type ServerFrame } from '@plexus/protocol';

export interface RawSocket {
  ws: WebSocket;
  frames: ServerFrame[];
  /** Each frame's bytes as received (parallel to `frames`). */
  raw: Uint8Array[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  send(bytes: Uint8Array | string): void;
}

/** A bare WebSocket to a dedicated server, recording decoded frames: for protocol-level tests. */
export function rawConnect(endpoint: string): RawSocket {
  const ws = new WebSocket(endpoint);
  ws.binaryType = 'arraybuffer';
  const frames: ServerFrame[] = [];
  const raw: Uint8Array[] = [];
  ws.addEventListener('message', (ev) => {
    if (!(ev.data instanceof ArrayBuffer)) return;
    const bytes = new Uint8Array(ev.data);
    frames.push(decodeServerFrame(bytes));
    raw.push(bytes);
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener('error', () => reject(new Error('socket error before open')), { once: true });
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (ev) => resolve({ code: ev.code, reason: ev.reason }), { once: true }),
  );
  return { ws, frames, raw, opened, closed, send: (bytes) => ws.send(bytes) };
}

/** Connects, sends HELLO with `ticket`, and resolves once the server closed the socket. */
export async function helloAndClose(
  endpoint: string,
  ticket: string,
  version = PROTOCOL_VERSION,
): Promise<{ code: number; frames: ServerFrame[] }> {
  const sock = rawConnect(endpoint);
  await sock.opened;
  sock.send(encodeHello(version, ticket));
  const { code } = await withTimeout(
    sock.closed,
    5000,
    `server close (frames ${JSON.stringify(sock.frames.map((f) => f.op))})`,
  );
  return { code, frames: sock.frames };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
