import type { BalancerToServer, PlexusEventEnvelope } from '@plexus/protocol';
import type { Logger } from 'pino';
import type { ClusterStore, Release } from './cluster-store.ts';
import type { PeerBus, PeerDelivery } from './redis-bus.ts';

/** The control sockets this balancer holds. */
export interface LocalServers {
  /** Writes a message to a server's socket; false when this balancer does not hold it. */
  send(serverId: string, message: BalancerToServer): boolean;
  /** Writes a message to every registered server; returns how many got it. */
  broadcast(message: BalancerToServer): number;
}

export interface ServerRouterOptions {
  local: LocalServers;
  store: ClusterStore;
  lbId: string;
  /** How other balancers are reached (Redis mode); undefined with one balancer. */
  bus: PeerBus | undefined;
  logger: Logger;
  onEventDelivered?: (servers: number) => void;
}

/**
 * Gets a message to a dedicated server wherever its control socket is: written directly when this
 * balancer holds it, else published to a balancer that does (Redis pub/sub).
 */
export class ServerRouter {
  readonly #o: ServerRouterOptions;

  constructor(options: ServerRouterOptions) {
    this.#o = options;
  }

  /** False when no balancer holds the server. */
  async deliver(serverId: string, message: BalancerToServer): Promise<boolean> {
    if (this.#o.local.send(serverId, message)) return true;
    if (!this.#o.bus) return false;
    const server = await this.#o.store.get(serverId);
    const holder = server?.balancers.find((lbId) => lbId !== this.#o.lbId);
    if (holder === undefined) return false;
    await this.#o.bus.send(holder, { serverId, message });
    return true;
  }

  /** Marks the server draining for every balancer, then sends it the drain command. False when unknown. */
  async drain(serverId: string): Promise<boolean> {
    if (!(await this.#o.store.setDraining(serverId))) return false;
    const delivered = await this.deliver(serverId, { type: 'command', command: 'drain' });
    this.#o.logger.info({ serverId, delivered }, 'drain command sent');
    return true;
  }

  /** Tells each loser of an epoch conflict to stop hosting the playground. */
  deliverReleases(releases: readonly Release[]): void {
    for (const { playgroundId, serverId } of releases) {
      this.#o.logger.warn(
        { playgroundId, serverId },
        'playground held by another server with a newer epoch: release sent',
      );
      this.deliver(serverId, { type: 'release', playgroundId }).catch((err: unknown) =>
        this.#o.logger.warn({ err, playgroundId, serverId }, 'release could not be delivered'),
      );
    }
  }

  /**
   * A published event: to the server hosting the target playground, or to every server for a user or
   * everyone (servers filter by their users and drop duplicates by id). Every balancer receives every
   * event from the backend, so each one delivers to the servers it holds.
   */
  async deliverEvent(event: PlexusEventEnvelope): Promise<void> {
    const message: BalancerToServer = { type: 'event', event };
    let servers = 0;
    if ('playgroundId' in event.target) {
      const home = await this.#o.store.homeOf(event.target.playgroundId);
      if (home !== undefined && this.#o.local.send(home, message)) servers = 1;
    } else {
      servers = this.#o.local.broadcast(message);
    }
    this.#o.onEventDelivered?.(servers);
  }

  /** A message another balancer published for a server this one holds. */
  onPeerDelivery(delivery: PeerDelivery): void {
    if (!this.#o.local.send(delivery.serverId, delivery.message)) {
      this.#o.logger.debug({ serverId: delivery.serverId }, 'peer delivery for a server no longer held here');
    }
  }
}
