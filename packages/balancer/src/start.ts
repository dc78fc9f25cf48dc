import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type BalancerApp, createBalancerApp } from './app.ts';
import type { BalancerConfig } from './config.ts';
import { startFleetScaling } from './scaling/fleet-scaling.ts';

export interface BalancerHandle {
  /** The bound base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Graceful and idempotent: stops accepting, closes control sockets (1001), then HTTP. */
  close(): Promise<void>;
  /** The running parts (registry, control channel…), for tests and tooling. */
  balancer: BalancerApp;
}

/** Starts the load balancer and logs one `listening` line with the bound URL. */
export async function startBalancer(
  config: BalancerConfig,
  /** `kubeConfig`: the Kubernetes API of the Agones provider; in-cluster configuration when absent. */
  options: { logger: Logger; events?: boolean; kubeConfig?: KubeConfig },
): Promise<BalancerHandle> {
  const { logger } = options;
  const balancer = await createBalancerApp({
    config,
    logger,
    ...(options.events === undefined ? {} : { events: options.events }),
  });
  await balancer.app.listen({ host: config.host, port: config.port });
  const address = balancer.app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url }, 'listening');
  let scaling: ReturnType<typeof startFleetScaling>;
  try {
    scaling = startFleetScaling(config, {
      url,
      logger,
      ...(options.kubeConfig ? { kubeConfig: options.kubeConfig } : {}),
    });
  } catch (err) {
    await balancer.app.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    balancer,
    close() {
      closing ??= (async () => {
        await scaling?.stop();
        await balancer.app.close();
      })();
      return closing;
    },
  };
}
