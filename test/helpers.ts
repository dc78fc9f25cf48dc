import type { Playground } from '@plexus/client';

type EventName = Parameters<Playground['on']>[0];

/** Resolves with the arguments of the first `event` whose arguments satisfy `match`. */
export function nextEvent(
  pg: Playground,
  event: EventName,
  match: (...args: never[]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = pg.on(event, ((...args: never[]) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    }) as never);
  });
}

export interface EnvelopeBody {
  // biome-ignore lint/suspicious/noExplicitAny: tests read response data loosely and assert on it
  data: any;
  error: { status: boolean; code: number; message: string };
}

/** POSTs JSON (or a raw string) and returns the HTTP status and parsed envelope. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: EnvelopeBody }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as never };
}
