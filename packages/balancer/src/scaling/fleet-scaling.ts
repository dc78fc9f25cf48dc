import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError, type Logger } from '@plexus/kit';
import type { BalancerConfig } from '../config.ts';
import { AgonesProvider } from './agones-provider.ts';
import { Autoscaler } from './autoscaler.ts';
import { GameServerAllocator } from './gameserver-allocation.ts';

/**
 * The balancer's own autoscaler over the configured provider (docs/deploy.md#scaling), or null for
 * `none`. It reads this balancer's server list and drains through its admin route, as the dev
 * cluster's autoscaler does (docs/operations.md), so in Redis mode it sees every balancer's servers.
 */
export function startFleetScaling(
  config: BalancerConfig,
  options: { url: string; logger: Logger; kubeConfig?: KubeConfig },
): Autoscaler | null {
  if (config.serverProvider === 'none') return null;
  let kubeConfig = options.kubeConfig;
  if (!kubeConfig) {
    // In a pod: the ServiceAccount's token and the API server from the environment Kubernetes sets.
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromCluster();
    // Outside a pod the client builds `https://undefined:undefined`: say so at start-up, not per allocation.
    if (kubeConfig.getCurrentCluster()?.server.includes('undefined')) {
      throw new ConfigError(
        'PLEXUS_SERVER_PROVIDER=agones needs the in-cluster Kubernetes API (KUBERNETES_SERVICE_HOST/PORT are not set)',
      );
    }
  }
  const logger = options.logger.child({ provider: config.serverProvider });
  const allocator = new GameServerAllocator({
    kubeConfig,
    namespace: config.agonesNamespace,
    matchLabels: { 'agones.dev/fleet': config.agonesFleet },
  });
  const autoscaler = new Autoscaler({
    provider: new AgonesProvider({ allocator, logger }),
    balancerUrl: options.url,
    operatorKey: config.operatorKey,
    policy: {
      // The Fleet keeps its own minimum of Ready servers (its FleetAutoscaler's buffer).
      minServers: 0,
      maxServers: config.autoscaleMaxServers,
      minFreeSeats: config.autoscaleMinFreeSeats,
      maxFreeSeats: config.autoscaleMaxFreeSeats,
      cooldownMs: config.autoscaleCooldownMs,
    },
    intervalMs: config.autoscaleIntervalMs,
    logger,
  });
  autoscaler.start();
  logger.info(
    { fleet: config.agonesFleet, namespace: config.agonesNamespace },
    'allocating from an Agones fleet',
  );
  return autoscaler;
}
