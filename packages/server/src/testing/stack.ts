import { Writable } from 'node:stream';
import { createLogger } from '@plexus/kit';
import { loadServerConfig, type ServerConfigInput } from '../config.ts';
import { type ServerHandle, type StartServerOptions, startServer } from '../start.ts';
import { startTestBalancer, type TestBalancer } from './test-balancer.ts';
import { TestClient } from './test-client.ts';

export interface Stack {
  /** The first test balancer. */
  balancer: TestBalancer;
  /** Every test balancer the server is connected to (`balancers` option). */
  balancers: TestBalancer[];
  server: ServerHandle;
  /** Every NDJSON log line the server wrote. */
  logs: string[];
  connect(): Promise<TestClient>;
  close(): Promise<void>;
}

const SECRET = 'wire-test-cluster-secret';

/**
 * Test balancers (real control protocol; one unless `balancers` says more) plus a dedicated server
 * on port 0 connected to them; waits until the server registered and holds the ticket key.
 */
export async function startStack(
  overrides: Partial<ServerConfigInput> = {},
  options: Partial<StartServerOptions> & { answerRegister?: boolean; balancers?: number } = {},
): Promise<Stack> {
  const { answerRegister, balancers: count, ...serverOptions } = options;
  const balancers: TestBalancer[] = [];
  for (let i = 0; i < (count ?? 1); i++) {
    balancers.push(await startTestBalancer({ secret: SECRET, answerRegister: answerRegister ?? true }));
  }
  const balancer = balancers[0] as TestBalancer;
  const closeBalancers = () => Promise.all(balancers.map((b) => b.close()));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const logger = createLogger({ component: 'server', level: 'debug', destination });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    const config = loadServerConfig(
      {},
      {
        host: '127.0.0.1',
        port: 0,
        serverId: 'ds-test',
        balancerUrl: balancers.map((b) => b.url),
        clusterSecret: SECRET,
        reconnectMinMs: 20,
        reconnectMaxMs: 200,
        loadIntervalMs: 100,
        ...overrides,
      },
    );
    server = await startServer(config, { ...serverOptions, logger });
  } catch (err) {
    // Never leave the test balancers listening: the test process would not exit.
    await closeBalancers();
    throw err;
  }
  const clients: TestClient[] = [];
  const stack: Stack = {
    balancer,
    balancers,
    server,
    logs,
    async connect() {
      const c = await TestClient.connect(server.endpoint);
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
      await closeBalancers();
    },
  };
  if (answerRegister !== false) await waitUntil(() => isReady(server.url));
  return stack;
}

async function isReady(url: string): Promise<boolean> {
  const res = await fetch(`${url}/readyz`);
  await res.arrayBuffer();
  return res.status === 200;
}

/** Polls an async condition until true, within `timeoutMs`. */
export async function waitUntil(cond: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A client of `stack` joined to playground `pg` as user `sub` (resuming with `rt`), with its WELCOME. */
export async function joinAs(stack: Stack, pg: string, sub: string, rt?: string) {
  const c = await stack.connect();
  const res = await c.join(await stack.balancer.ticket({ aud: 'ds-test', pg, sub, ...(rt ? { rt } : {}) }));
  return { c, ...res };
}
