import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Playground } from '@plexus/client';
import { CHROMIUM, launchChromium } from '@plexus/testkit';
import type { Browser, Page } from 'playwright-core';

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

/**
 * Writes raw bytes to an HTTP listener and parses what comes back before the server closes: for
 * requests no HTTP client would send (bad request lines, oversized headers).
 */
export function rawHttp(url: string, bytes: string): Promise<{ status: number; body: EnvelopeBody }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${url} kept the socket open; got ${JSON.stringify(text.slice(0, 200))}`));
    }, 5_000);
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
        resolve({ status, body: JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as EnvelopeBody });
      } catch (err) {
        reject(new Error(`${url} answered ${JSON.stringify(text.slice(0, 200))}`, { cause: err }));
      }
    });
    socket.write(bytes);
  });
}

/** The built browser demo (npm run build:web). */
export const WEB_ROOT = fileURLToPath(new URL('../packages/web/dist', import.meta.url));
/** On a developer machine without Chromium the browser tests are skipped; CI installs it, so there they run. */
export const browserSkip = !existsSync(CHROMIUM) && !process.env.CI ? `no Chromium at ${CHROMIUM}` : false;

export { CHROMIUM, launchChromium };

/**
 * Opens the demo served at `balancerUrl` in a new page and joins `playgroundId` as `name`; resolves
 * once the page shows it joined. `errors` collects the page's uncaught errors.
 */
export async function joinDemo(
  browser: Browser,
  balancerUrl: string,
  name: string,
  playgroundId: string,
): Promise<{ page: Page; errors: string[] }> {
  // A modest window: WebGL runs on the CPU here (SwiftShader), and pixels are what it pays for.
  const page = await browser.newPage({ viewport: { width: 800, height: 450 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${balancerUrl}/`);
  await page.fill('#name', name);
  await page.fill('#playground', playgroundId);
  await page.click('#join');
  await page.waitForSelector('body[data-state="joined"]', { timeout: 15_000 });
  return { page, errors };
}
