import { CONSOLE_STREAM_PATH, type ConsoleSnapshot } from '@plexus/protocol';

export interface StreamHandlers {
  onSnapshot(snapshot: ConsoleSnapshot): void;
  /** `live` once a stream answers; `reconnecting` while it is down; `refused` when the key is wrong. */
  onState(state: 'live' | 'reconnecting' | 'refused', detail?: string): void;
}

/** Waits between reconnection attempts (doubling up to the maximum); the stream itself is pushed. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10_000;

/**
 * The console's live feed: server-sent events read with `fetch` (not EventSource, which cannot send
 * the key in a header; the key never goes into a URL). Reconnects when the stream drops; stops for
 * good on a refused key or `close()`. Resolves once the first answer says whether the key is good.
 */
export function openConsoleStream(
  key: string,
  handlers: StreamHandlers,
): { ready: Promise<boolean>; close(): void } {
  const abort = new AbortController();
  let settle: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => {
    settle = resolve;
  });

  const run = async () => {
    let retryMs = RETRY_MIN_MS;
    while (!abort.signal.aborted) {
      try {
        const res = await fetch(CONSOLE_STREAM_PATH, {
          headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
          cache: 'no-store',
          signal: abort.signal,
        });
        if (res.status === 401 || res.status === 403) {
          handlers.onState('refused', await errorMessage(res));
          settle(false);
          return;
        }
        if (!res.ok || !res.body) throw new Error(await errorMessage(res));
        settle(true);
        handlers.onState('live');
        retryMs = RETRY_MIN_MS;
        await readEvents(res.body, (event, data) => {
          if (event === 'snapshot') handlers.onSnapshot(JSON.parse(data) as ConsoleSnapshot);
        });
      } catch (err) {
        if (abort.signal.aborted) return;
        handlers.onState('reconnecting', (err as Error).message);
      }
      if (abort.signal.aborted) return;
      handlers.onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    }
  };
  void run();
  return {
    ready,
    close: () => {
      abort.abort();
      settle(false);
    },
  };
}

/** Splits a text/event-stream body into (event, data) pairs until it ends. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: string, data: string) => void) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) onEvent(event, data.join('\n'));
    }
  }
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}
