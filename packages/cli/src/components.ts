import { createLogger, installShutdown } from '@plexus/kit';

export type ComponentName = 'backend' | 'balancer' | 'server';

type Env = Record<string, string | undefined>;

interface Handle {
  url: string;
  close(): Promise<void>;
}

/**
 * Runs one component in this process, as production does: config from file/env/flags, one root
 * logger, graceful shutdown on SIGINT/SIGTERM. A bad config is thrown as ConfigError by the loader.
 * Only the component's own package is loaded: the balancer's Kubernetes client and the backend's
 * storage would otherwise be about 30 MB of a dedicated server's live heap, which every major GC
 * marks (docs/operations.md, "Memory of a dedicated server").
 */
export async function runComponent(
  name: ComponentName,
  env: Env,
  flags: Record<string, unknown>,
): Promise<void> {
  let handle: Handle;
  let logger: ReturnType<typeof createLogger>;
  // A dedicated server's close() drains first (final checkpoints, relocation, clients leaving).
  let shutdownTimeoutMs: number | undefined;
  switch (name) {
    case 'backend': {
      const { loadBackendConfig, startBackend } = await import('@plexus/backend');
      const config = loadBackendConfig(env, flags);
      logger = createLogger({ component: 'backend', level: config.logLevel });
      handle = await startBackend(config, { logger });
      break;
    }
    case 'balancer': {
      const { loadBalancerConfig, startBalancer } = await import('@plexus/balancer');
      const config = loadBalancerConfig(env, flags);
      logger = createLogger({ component: 'balancer', level: config.logLevel });
      handle = await startBalancer(config, { logger });
      break;
    }
    case 'server': {
      const { loadServerConfig, startServer } = await import('@plexus/server');
      const config = loadServerConfig(env, flags);
      logger = createLogger({ component: 'server', level: config.logLevel });
      const l = logger;
      handle = await startServer(config, {
        logger,
        // A drain the balancer asked for (`drain`/`shutdown` command) finished: leave, as on SIGTERM.
        onDrained: () => {
          l.info("drained on the balancer's request, exiting");
          process.kill(process.pid, 'SIGTERM');
        },
      });
      shutdownTimeoutMs = config.drainTimeoutMs + 15_000;
      break;
    }
  }
  installShutdown({
    logger,
    close: () => handle.close(),
    ...(shutdownTimeoutMs !== undefined ? { timeoutMs: shutdownTimeoutMs } : {}),
  });
}
