import type { Logger } from 'pino';

export interface ShutdownOptions {
  logger: Logger;
  /** Stops accepting work and releases resources; called once. */
  close: () => Promise<void>;
  /** After this long the process exits anyway. */
  timeoutMs?: number;
}

/**
 * Runs `close` once on SIGINT or SIGTERM, then exits 0 (1 if closing failed or timed out).
 * A second signal during shutdown exits at once.
 */
export function installShutdown({ logger, close, timeoutMs = 10_000 }: ShutdownOptions): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'second signal during shutdown, exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
