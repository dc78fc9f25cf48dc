import { AppError } from '@plexus/kit';
import type { BalancerToServer } from '@plexus/protocol';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closeConnection, createRedisConnection } from './redis-store.ts';

/** A message for a dedicated server whose control socket another balancer holds. */
export interface PeerDelivery {
  serverId: string;
  message: BalancerToServer;
}

/** How messages reach the other balancers (Redis pub/sub; none with a single balancer). */
export interface PeerBus {
  send(lbId: string, delivery: PeerDelivery): Promise<void>;
  close(): Promise<void>;
}

export interface RedisPeerBusOptions {
  url: string;
  prefix: string;
  lbId: string;
  /** Publishes on the store's connection (a subscribed connection cannot publish). */
  publisher: Redis;
  logger: Logger;
  onDelivery(delivery: PeerDelivery): void;
}

/**
 * One pub/sub channel per balancer (`<prefix>lb:<lbId>`): a balancer that must reach a server held by
 * another publishes the message on that balancer's channel, which writes it to the server's socket.
 * At-most-once, like everything else on the control channel; ioredis resubscribes after a reconnection.
 */
export class RedisPeerBus implements PeerBus {
  readonly #o: RedisPeerBusOptions;
  readonly #subscriber: Redis;
  #subscribed = false;
  readonly #whenSubscribed: Promise<void>;

  constructor(options: RedisPeerBusOptions) {
    this.#o = options;
    this.#subscriber = createRedisConnection(options.url, options.logger, 'pubsub');
    let onSubscribed = () => {};
    this.#whenSubscribed = new Promise((resolve) => {
      onSubscribed = resolve;
    });
    const channel = this.#channel(options.lbId);
    this.#subscriber.on('message', (from: string, text: string) => {
      if (from === channel) this.#onMessage(text);
    });
    const subscribe = () => {
      if (this.#subscribed) return;
      this.#subscriber.subscribe(channel).then(
        () => {
          this.#subscribed = true;
          onSubscribed();
        },
        (err: unknown) => options.logger.warn({ err }, 'redis subscribe failed; retrying on reconnection'),
      );
    };
    this.#subscriber.on('ready', subscribe);
    if (this.#subscriber.status === 'ready') subscribe();
  }

  /** Fails with LB_STATE_UNAVAILABLE (503) when Redis is unreachable, like every store call. */
  async send(lbId: string, delivery: PeerDelivery): Promise<void> {
    try {
      await this.#o.publisher.publish(this.#channel(lbId), JSON.stringify(delivery));
    } catch (err) {
      throw new AppError('LB_STATE_UNAVAILABLE', undefined, { cause: err });
    }
  }

  async close(): Promise<void> {
    await closeConnection(this.#subscriber);
  }

  /** Resolves once the channel is subscribed, or after `timeoutMs` (Redis down: it subscribes later). */
  async ready(timeoutMs = 3_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#whenSubscribed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  #channel(lbId: string): string {
    return `${this.#o.prefix}lb:${lbId}`;
  }

  #onMessage(text: string): void {
    let delivery: PeerDelivery;
    try {
      delivery = JSON.parse(text) as PeerDelivery;
    } catch {
      this.#o.logger.warn('unreadable message on the balancer channel; skipped');
      return;
    }
    if (typeof delivery?.serverId !== 'string' || typeof delivery.message?.type !== 'string') return;
    this.#o.onDelivery(delivery);
  }
}
