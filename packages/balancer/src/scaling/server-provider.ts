/** A dedicated server a provider runs. */
export interface ProvidedServer {
  /** Its `serverId`: the id it registers with on the balancers. */
  id: string;
  /** The WebSocket URL clients connect to. */
  endpoint: string;
}

/**
 * Where dedicated servers come from, for the autoscaler. The autoscaler decides from the balancer's
 * load view; a provider only starts and stops servers. `LocalProcessProvider` (packages/cli) runs
 * them as child processes of `plexus dev`; `AgonesProvider` allocates them from an Agones Fleet
 * (docs/deploy.md) — the autoscaler is the same for both.
 */
export interface ServerProvider {
  /** Starts one more server; resolves once it listens (it registers with the balancers by itself). */
  start(): Promise<ProvidedServer>;
  /**
   * Retires a server that is being drained: it is not restarted, and once it has left (a drained
   * server exits by itself) or `graceMs` passed, the provider makes sure it is gone.
   */
  stop(id: string, options?: { graceMs?: number }): Promise<void>;
  /** The servers it runs now (up, or down and being restarted), oldest first. */
  list(): ProvidedServer[];
}
