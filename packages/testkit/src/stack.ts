import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ComponentProcess, startComponent } from './process.ts';
import { waitFor } from './wait.ts';

export interface StackOptions {
  /** Number of dedicated servers (default 2). */
  servers?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Extra environment per dedicated server, by index. */
  serverEnv?: (index: number) => Record<string, string>;
  /** Directory served at / by the balancer. */
  webRoot?: string;
}

export interface Stack {
  /** The current backend process (replaced by restartBackend). */
  backend: ComponentProcess;
  /** The current balancer process (replaced by restartBalancer). */
  balancer: ComponentProcess;
  servers: ComponentProcess[];
  backendUrl: string;
  balancerUrl: string;
  partnerKey: string;
  dataDir: string;
  /** The process of the dedicated server with this id. */
  server(serverId: string): ComponentProcess | undefined;
  /** Starts one more dedicated server and waits for it to register. */
  addServer(env?: Record<string, string>): Promise<ComponentProcess>;
  /** Stops the backend gracefully and starts it again on the same port and data. */
  restartBackend(): Promise<void>;
  /** Stops the balancer gracefully and starts it again on the same port. */
  restartBalancer(): Promise<void>;
  /** Stops every process and removes the data directory. */
  stop(): Promise<void>;
}

const PARTNER_KEY = 'testkit-partner-key';
const CLUSTER_SECRET = 'testkit-cluster-secret';

/**
 * Boots the whole system as real processes on 127.0.0.1 with ephemeral ports and a temporary
 * SQLite data directory: backend, then balancer, then the dedicated servers (registered).
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plexus-test-'));
  const started: ComponentProcess[] = [];
  const common = {
    PLEXUS_PARTNER_KEY: PARTNER_KEY,
    PLEXUS_CLUSTER_SECRET: CLUSTER_SECRET,
    NODE_ENV: 'test',
    ...options.env,
  };
  const stopAll = async () => {
    await Promise.all([...started].reverse().map((p) => p.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  const startBackend = async (port: string) => {
    const proc = await startComponent('backend', 'backend', {
      ...common,
      PLEXUS_BACKEND_PORT: port,
      PLEXUS_DATA_DIR: dataDir,
    });
    started.push(proc);
    return proc;
  };
  const startBalancer = async (port: string, backendUrl: string) => {
    const proc = await startComponent('balancer', 'balancer', {
      ...common,
      PLEXUS_LB_PORT: port,
      PLEXUS_BACKEND_URL: backendUrl,
      ...(options.webRoot ? { PLEXUS_WEB_ROOT: options.webRoot } : {}),
    });
    started.push(proc);
    return proc;
  };
  try {
    const backend = await startBackend('0');
    const balancer = await startBalancer('0', backend.url);
    const servers: ComponentProcess[] = [];
    const byId = new Map<string, ComponentProcess>();
    const addServer = async (env: Record<string, string> = {}) => {
      const index = servers.length;
      const server = await startComponent(`ds-${index + 1}`, 'server', {
        ...common,
        PLEXUS_DS_PORT: '0',
        PLEXUS_DS_ID: `ds-${index + 1}`,
        PLEXUS_BALANCER_URL: balancer.url,
        ...options.serverEnv?.(index),
        ...env,
      });
      started.push(server);
      servers.push(server);
      const id = env.PLEXUS_DS_ID ?? options.serverEnv?.(index).PLEXUS_DS_ID ?? `ds-${index + 1}`;
      byId.set(id, server);
      await waitFor(async () => (await registeredServerIds(balancer.url)).includes(id), {
        timeoutMs: 15_000,
        what: `${id} registered with the balancer`,
      });
      return server;
    };
    for (let i = 0; i < (options.servers ?? 2); i++) await addServer();
    const stack: Stack = {
      backend,
      balancer,
      servers,
      backendUrl: backend.url,
      balancerUrl: balancer.url,
      partnerKey: PARTNER_KEY,
      dataDir,
      addServer,
      server: (serverId) => byId.get(serverId),
      restartBackend: async () => {
        await stack.backend.stop();
        stack.backend = await startBackend(new URL(stack.backendUrl).port);
      },
      restartBalancer: async () => {
        await stack.balancer.stop();
        stack.balancer = await startBalancer(new URL(stack.balancerUrl).port, stack.backendUrl);
      },
      stop: stopAll,
    };
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Ids of the servers the balancer currently has in its registry. */
export async function registeredServerIds(balancerUrl: string): Promise<string[]> {
  const res = await fetch(`${balancerUrl}/lb/api/v0/servers`);
  const body = (await res.json()) as { data: { servers: { serverId: string }[] } | null };
  return body.data?.servers.map((s) => s.serverId) ?? [];
}

/**
 * Dedicated-server settings for a test that joins `clients` clients from this one process: they
 * all come from 127.0.0.1, so the per-address limits must admit them.
 */
export function crowdServerEnv(clients: number): Record<string, string> {
  return {
    PLEXUS_DS_CAPACITY: String(clients + 10),
    PLEXUS_DS_MAX_SOCKETS_PER_ADDRESS: '1000',
    PLEXUS_DS_MAX_PENDING_HANDSHAKES_PER_ADDRESS: '1000',
  };
}
