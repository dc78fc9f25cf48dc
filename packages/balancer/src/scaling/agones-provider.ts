import { AppError, type Logger } from '@plexus/kit';
import type { GameServerAllocator } from './gameserver-allocation.ts';
import type { ProvidedServer, ServerProvider } from './server-provider.ts';

/**
 * Dedicated servers from an Agones Fleet (docs/deploy.md). `start` allocates a Ready GameServer:
 * it is already registered with the balancers (a server is Ready only once registered), it becomes
 * Allocated so no scale-down takes it, and the Fleet's buffer starts another Ready one behind it.
 * `stop` only forgets it: the autoscaler drained it through the balancer, and a drained server
 * exits and calls the SDK's Shutdown itself, so Agones deletes it — the balancer's role may create
 * GameServerAllocations and nothing more (deploy/k8s/base/rbac.yaml).
 */
export class AgonesProvider implements ServerProvider {
  #allocator: GameServerAllocator;
  #log: Logger;
  #servers: ProvidedServer[] = [];

  constructor(options: { allocator: GameServerAllocator; logger: Logger }) {
    this.#allocator = options.allocator;
    this.#log = options.logger;
  }

  async start(): Promise<ProvidedServer> {
    const result = await this.#allocator.allocate();
    if (result.state !== 'Allocated') {
      // UnAllocated: no Ready server (the Fleet is at its maximum, or still starting some).
      throw new AppError('LB_ALLOCATION_FAILED', `no Ready GameServer could be allocated (${result.state})`);
    }
    const server = { id: result.gameServerName, endpoint: result.endpoint };
    this.#servers = [...this.#servers.filter((s) => s.id !== server.id), server];
    this.#log.info({ serverId: server.id, endpoint: server.endpoint }, 'agones: GameServer allocated');
    return server;
  }

  async stop(id: string): Promise<void> {
    this.#servers = this.#servers.filter((s) => s.id !== id);
  }

  list(): ProvidedServer[] {
    return [...this.#servers];
  }
}
