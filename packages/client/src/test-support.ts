import { ClientOp, decodeClientFrame } from '@plexus/protocol';
import type { WebSocketLike } from './connection/socket.ts';

// Test helper only (not exported from index.ts).

/** In-memory WebSocket driven by the test (the "server" side). */
export class FakeWebSocket implements WebSocketLike {
  static last: FakeWebSocket | undefined;
  binaryType = 'blob';
  readyState = 0;
  readonly url: string;
  readonly sent: Uint8Array[] = [];
  /** Like the real server: answer LEAVE by closing 1000. */
  closeOnLeave = true;
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.last = this;
  }

  send(data: Uint8Array | ArrayBuffer): void {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    this.sent.push(bytes);
    if (this.closeOnLeave && bytes[0] === ClientOp.LEAVE)
      queueMicrotask(() => this.serverClose(1000, 'left'));
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
    queueMicrotask(() => this.serverClose(code ?? 1005, reason ?? ''));
  }

  // ---- server side
  serverOpen(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  serverSend(bytes: Uint8Array | string): void {
    this.onmessage?.({ data: typeof bytes === 'string' ? bytes : bytes.slice().buffer });
  }

  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  sentOps(): number[] {
    return this.sent.map((b) => decodeClientFrame(b).op);
  }
}
