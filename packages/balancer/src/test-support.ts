/** Helpers shared by the balancer's tests (not part of the package's API). */
import { createServer } from 'node:net';
import { createLogger, type Logger } from '@plexus/kit';
import { CONTROL_PATH, type UserSimple } from '@plexus/protocol';
import { WebSocket } from 'ws';
import { type BalancerConfig, type BalancerConfigInput, loadBalancerConfig } from './config.ts';

export const TEST_SECRET = 'test-cluster-secret-0123456789';

export function silentLogger(): Logger {
  return createLogger({ component: 'balancer-test', level: 'silent' });
}

export function testConfig(flags: Partial<BalancerConfigInput> = {}): BalancerConfig {
  return loadBalancerConfig({}, { port: 0, clusterSecret: TEST_SECRET, ...flags });
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 2_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with `promise`, or rejects after `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs = 2_000, what = 'event'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A control-channel client: collects JSON messages so tests can await the next one. */
export class ControlClient {
  readonly ws: WebSocket;
  readonly #queue: unknown[] = [];
  readonly #waiters: { match: (m: unknown) => boolean; resolve: (m: unknown) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(
    baseUrl: string,
    options: { secret?: string | undefined; autoPong?: boolean; path?: string } = {},
  ) {
    const headers: Record<string, string> = {};
    const secret = 'secret' in options ? options.secret : TEST_SECRET;
    if (secret !== undefined) headers.authorization = `Bearer ${secret}`;
    this.ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${options.path ?? CONTROL_PATH}`, {
      headers,
      autoPong: options.autoPong ?? true,
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const message: unknown = JSON.parse(data.toString());
      const index = this.#waiters.findIndex((w) => w.match(message));
      const waiter = index >= 0 ? this.#waiters.splice(index, 1)[0] : undefined;
      if (waiter) waiter.resolve(message);
      else this.#queue.push(message);
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) =>
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode }),
        ),
      );
      this.ws.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  next(timeoutMs = 2_000): Promise<unknown> {
    return this.nextMatching(() => true, timeoutMs, 'control message');
  }

  /** The first message (queued or to come) that `match` accepts; the others stay queued. */
  nextMatching(
    match: (m: unknown) => boolean,
    timeoutMs = 2_000,
    what = 'matching control message',
  ): Promise<unknown> {
    const index = this.#queue.findIndex(match);
    if (index >= 0) return Promise.resolve(this.#queue.splice(index, 1)[0]);
    let waiter: { match: (m: unknown) => boolean; resolve: (m: unknown) => void } | undefined;
    const arrived = new Promise<unknown>((resolve) => {
      waiter = { match, resolve };
      this.#waiters.push(waiter);
    });
    return within(arrived, timeoutMs, what).finally(() => {
      const i = waiter ? this.#waiters.indexOf(waiter) : -1;
      if (i >= 0) this.#waiters.splice(i, 1);
    });
  }

  /** The next message of a type. */
  nextOfType(type: string, timeoutMs = 2_000): Promise<Record<string, unknown>> {
    return this.nextMatching(
      (m) => (m as { type?: unknown }).type === type,
      timeoutMs,
      `a ${type} message`,
    ) as Promise<Record<string, unknown>>;
  }

  /** Sends a control RPC and resolves with its `rpcResult`. */
  async rpc(id: number, method: string, params: Record<string, unknown>, timeoutMs = 5_000) {
    this.send({ type: 'rpc', id, method, params });
    return (await this.nextMatching(
      (m) => (m as { type?: unknown; id?: unknown }).type === 'rpcResult' && (m as { id: unknown }).id === id,
      timeoutMs,
      `rpcResult ${id}`,
    )) as {
      type: 'rpcResult';
      id: number;
      data?: unknown;
      error?: { status: number; code: number; message: string };
    };
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await within(this.closed, 2_000, 'client close').catch(() => this.ws.terminate());
  }
}

/** A user for tests (the User Simple model). */
export function testUser(id: string): UserSimple {
  return {
    id,
    firstName: 'Ada',
    lastName: 'Lovelace',
    privacyMode: 0,
    avatar: '',
    companyName: 'Engines',
    companyTitle: '',
  };
}

/** Connects, registers and waits for `registered`. */
export async function registeredClient(
  baseUrl: string,
  serverId: string,
  overrides: Record<string, unknown> = {},
  options: ConstructorParameters<typeof ControlClient>[1] = {},
): Promise<ControlClient> {
  const client = new ControlClient(baseUrl, options);
  await client.opened;
  client.send(registerMessage(serverId, overrides));
  const reply = (await client.next(5_000)) as { type: string };
  if (reply.type !== 'registered') throw new Error(`expected registered, got ${JSON.stringify(reply)}`);
  return client;
}

export function registerMessage(serverId: string, overrides: Record<string, unknown> = {}) {
  return {
    type: 'register',
    serverId,
    endpoint: `ws://127.0.0.1:9100/ws`,
    capacity: 10,
    version: '0.1.0',
    protocolVersion: 1,
    playgrounds: [],
    ...overrides,
  };
}
