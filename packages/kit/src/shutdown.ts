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
 *
 * One shutdown per process, whatever signals arrive: Ctrl-C under `npm start` sends SIGINT to every
 * process of the terminal's group and then `plexus dev` sends its children SIGTERM, and that pair
 * must drain once, not cut the drain short (docs/operations.md, "Graceful shutdown"). So the other
 * signal during shutdown is only logged; the same signal again (Ctrl-C pressed twice) exits at once.
 */
export function installShutdown({ logger, close, timeoutMs = 10_000 }: ShutdownOptions): void {
  let first: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first === signal) {
      logger.warn({ signal }, 'second signal during shutdown, exiting now');
      process.exit(1);
    }
    if (first !== null) {
      logger.info({ signal, first }, 'already shutting down');
      return;
    }
    first = signal;
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
