import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import type { ProvidedServer, ServerProvider } from '@plexus/balancer';
import type { SupervisedProcess } from './supervisor.ts';

/** What a component's `listening` log line says. */
export interface ListenInfo {
  url: string;
  /** A dedicated server's client WebSocket URL. */
  endpoint?: string;
}

/** A component process started under the supervisor by the dev cluster. */
export interface Launched {
  proc: SupervisedProcess;
  /** Its first `listening`; rejects if it ended before. */
  listening: Promise<ListenInfo>;
}

/** Starts `plexus server` with this id and these variables (on top of the cluster's environment). */
export type LaunchServer = (id: string, env: Record<string, string>) => Launched;

export interface LocalProcessProviderOptions {
  launch: LaunchServer;
  /** Address the servers bind (PLEXUS_DS_HOST), where free ports are probed. */
  host: string;
  /** Server _i_ gets the first free port from `portBase + i`; 0: an ephemeral port each. */
  portBase: number;
  /** Ids are `<idPrefix>-<port>`. */
  idPrefix: string;
}

interface Entry {
  id: string;
  port: number;
  proc: SupervisedProcess;
  endpoint: string | null;
}

/** Ports probed from the base before giving up. */
const MAX_PORT_PROBES = 1_000;

/**
 * Dedicated servers as child processes of `plexus dev`, each kept up by the supervisor (a drained
 * server's clean exit is final), on the next free port from PLEXUS_DS_PORT_BASE with the id
 * `ds-<port>`. A port stays with its server across restarts.
 */
export class LocalProcessProvider implements ServerProvider {
  #o: LocalProcessProviderOptions;
  #servers = new Map<string, Entry>();
  /** Ports picked but not yet in #servers. */
  #reserved = new Set<number>();
  #picking: Promise<unknown> = Promise.resolve();

  constructor(options: LocalProcessProviderOptions) {
    this.#o = options;
  }

  async start(): Promise<ProvidedServer> {
    // One pick at a time, so two starts never probe their way to the same port.
    const picked = this.#picking.then(() => this.#pickPort());
    this.#picking = picked.catch(() => {});
    const port = await picked;
    const id = `${this.#o.idPrefix}-${port}`;
    let launched: Launched;
    try {
      launched = this.#o.launch(id, { PLEXUS_DS_PORT: String(port), PLEXUS_DS_ID: id });
    } finally {
      this.#reserved.delete(port);
    }
    const entry: Entry = { id, port, proc: launched.proc, endpoint: null };
    this.#servers.set(id, entry);
    void launched.proc.ended.then(() => this.#servers.delete(id));
    const info = await launched.listening;
    entry.endpoint = info.endpoint ?? info.url;
    return { id, endpoint: entry.endpoint };
  }

  async stop(id: string, options: { graceMs?: number } = {}): Promise<void> {
    const entry = this.#servers.get(id);
    if (!entry) return;
    entry.proc.retire();
    const graceMs = options.graceMs ?? 0;
    if (graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([entry.proc.ended, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    // Still there: SIGTERM, on which a dedicated server drains and exits (SIGKILL after its killAfterMs).
    await entry.proc.stop();
  }

  list(): ProvidedServer[] {
    return [...this.#servers.values()]
      .filter((e): e is Entry & { endpoint: string } => e.endpoint !== null)
      .map((e) => ({ id: e.id, endpoint: e.endpoint }));
  }

  async #pickPort(): Promise<number> {
    const used = new Set([...this.#reserved, ...[...this.#servers.values()].map((e) => e.port)]);
    const { host, portBase } = this.#o;
    for (let i = 0; i < MAX_PORT_PROBES; i++) {
      const candidate = portBase === 0 ? 0 : portBase + i;
      if (candidate > 65_535) break;
      if (used.has(candidate)) continue;
      const port = await probePort(host, candidate);
      if (port !== null && !used.has(port)) {
        this.#reserved.add(port);
        return port;
      }
    }
    throw new Error(`no free port for a dedicated server from PLEXUS_DS_PORT_BASE ${portBase} on ${host}`);
  }
}

/** The port if it can be bound on `host` now (0: an ephemeral one), else null. */
function probePort(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => {
      const bound = (server.address() as AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}
