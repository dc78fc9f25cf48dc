import {
  decodeServerFrame,
  type EntityState,
  encodeHello,
  PROTOCOL_VERSION,
  type ServerFrame,
  ServerOp,
  type StateFrame,
  type Welcome,
} from '@plexus/protocol';
import WebSocket from 'ws';

/** A raw protocol client for wire tests: records every decoded frame and the close code. */
export class TestClient {
  readonly ws: WebSocket;
  readonly frames: ServerFrame[] = [];
  readonly rawBytes: Buffer[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private cursor = 0;
  private wake: (() => void) | null = null;
  /** Woken on every frame and on close (for `until`, independent of `next`'s cursor). */
  private readonly listeners = new Set<() => void>();

  constructor(endpoint: string) {
    this.ws = new WebSocket(endpoint, { perMessageDeflate: false });
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer) => {
      this.rawBytes.push(data);
      this.frames.push(decodeServerFrame(data));
      this.wake?.();
      for (const l of this.listeners) l();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake?.();
        for (const l of this.listeners) l();
      });
    });
  }

  static async connect(endpoint: string): Promise<TestClient> {
    const c = new TestClient(endpoint);
    await c.opened;
    return c;
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  hello(ticket: string, version = PROTOCOL_VERSION): void {
    this.send(encodeHello(version, ticket));
  }

  /** The next frame (after the previously consumed ones) that matches, within `timeoutMs`. */
  async next<T extends ServerFrame = ServerFrame>(
    pred: (f: ServerFrame) => boolean = () => true,
    timeoutMs = 3_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++] as ServerFrame;
        if (pred(f)) return f as T;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`no matching frame (have ${JSON.stringify(this.frames.map((f) => f.op))})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        };
      });
    }
  }

  nextState(pred: (s: StateFrame) => boolean = () => true, timeoutMs?: number): Promise<StateFrame> {
    return this.next<{ op: typeof ServerOp.STATE } & StateFrame>(
      (f) => f.op === ServerOp.STATE && pred(f),
      timeoutMs,
    );
  }

  /** HELLO, then WELCOME and the first keyframe. */
  async join(ticket: string): Promise<{ welcome: Welcome; keyframe: StateFrame }> {
    this.hello(ticket);
    const w = await this.next<{ op: typeof ServerOp.WELCOME; welcome: Welcome }>(
      (f) => f.op === ServerOp.WELCOME || f.op === ServerOp.ERROR,
    );
    if (w.op !== ServerOp.WELCOME) throw new Error(`refused: ${JSON.stringify(w)}`);
    const keyframe = await this.nextState();
    return { welcome: w.welcome, keyframe };
  }

  /** Expects an ERROR frame then a close: returns both. */
  async refusal(timeoutMs = 3_000): Promise<{ name: string; code: number; closeCode: number }> {
    const err = await this.next<{ op: typeof ServerOp.ERROR; code: number; name: string; message: string }>(
      (f) => f.op === ServerOp.ERROR,
      timeoutMs,
    );
    const { code: closeCode } = await this.closedWithin(timeoutMs);
    return { name: err.name, code: err.code, closeCode };
  }

  /** The close event, or a rejection after `timeoutMs`. */
  closedWithin(timeoutMs = 3_000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('socket did not close in time')), timeoutMs);
    });
    return Promise.race([this.closed, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Resolves once `cond` holds (checked now and after every frame), within `timeoutMs`; does not
   * move `next`'s cursor.
   */
  until<T>(cond: () => T | undefined | false, timeoutMs = 3_000, what = 'condition'): Promise<T> {
    const first = cond();
    if (first) return Promise.resolve(first);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = (): void => {
        const v = cond();
        if (v) {
          done();
          resolve(v);
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`closed before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`timed out waiting for ${what} (have ${JSON.stringify(this.frames.map((f) => f.op))})`),
        );
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  /** Any frame received so far (from the first) matching `pred`, or the first one to come. */
  find<T extends ServerFrame = ServerFrame>(
    pred: (f: ServerFrame) => boolean,
    timeoutMs?: number,
  ): Promise<T> {
    return this.until(() => this.frames.find(pred) as T | undefined, timeoutMs, 'a matching frame');
  }

  /** The RESULT of request `requestId`. */
  result(requestId: number, timeoutMs?: number) {
    return this.find<{
      op: typeof ServerOp.RESULT;
      requestId: number;
      code: number;
      value: number;
      message: string;
    }>((f) => f.op === ServerOp.RESULT && f.requestId === requestId, timeoutMs);
  }

  /** The entities as this client sees them, from every STATE frame received so far, in order. */
  mirror(): Map<number, EntityState> {
    const m = new Map<number, EntityState>();
    for (const f of this.frames) {
      if (f.op !== ServerOp.STATE) continue;
      if (f.keyframe) m.clear();
      for (const s of f.spawns) m.set(s.id, structuredClone(s));
      for (const u of f.updates) {
        const e = m.get(u.id);
        if (!e) continue;
        if (u.position) e.position = u.position;
        if (u.positionXZ) e.position = { x: u.positionXZ.x, y: e.position.y, z: u.positionXZ.z };
        if (u.rotation) e.rotation = u.rotation;
        if (u.props) e.props = u.props;
        if (u.owner !== undefined) e.owner = u.owner;
      }
      for (const id of f.removes) m.delete(id);
    }
    return m;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.terminate();
  }
}
