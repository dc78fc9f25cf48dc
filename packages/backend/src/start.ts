import type { AddressInfo } from 'node:net';
import { createMetrics, type Logger } from '@plexus/kit';
import { createBackendApp } from './app.ts';
import type { BackendConfig } from './config.ts';
import { startContinuityHousekeeping } from './services/continuity-housekeeping.ts';
import { describeStorage, openRepository } from './storage/open-repository.ts';

export interface BackendHandle {
  url: string;
  close(): Promise<void>;
}

/** How often sessions past their expiry are deleted. */
const SESSION_PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Opens the storage (PostgreSQL at `databaseUrl`, else `<dataDir>/plexus.db`), applies pending
 * migrations, and listens on host:port. Logs one `{url} 'listening'` line. `close()` stops the HTTP
 * server, then closes the database; idempotent.
 */
export async function startBackend(
  config: BackendConfig,
  { logger }: { logger: Logger },
): Promise<BackendHandle> {
  const { db, repo } = openRepository(config, { logger });
  let app: ReturnType<typeof createBackendApp> | undefined;
  try {
    const applied = await repo.migrate();
    if (applied.length > 0) logger.info({ applied, ...describeStorage(config) }, 'migrations applied');
    app = createBackendApp({ config, logger, metrics: createMetrics('backend'), repo, db });
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app?.close();
    await repo.close();
    throw err;
  }
  const server = app;
  const address = server.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  const pruneTimer = setInterval(() => {
    repo.deleteExpiredSessions(Date.now()).then(
      (deleted) => deleted > 0 && logger.debug({ deleted }, 'expired sessions deleted'),
      (err: unknown) => logger.warn({ err }, 'deleting expired sessions failed'),
    );
  }, SESSION_PRUNE_INTERVAL_MS);
  pruneTimer.unref();
  const housekeeping = startContinuityHousekeeping({ db, presenceTtlMs: config.presenceTtlMs, logger });

  logger.info({ url }, 'listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        clearInterval(pruneTimer);
        await housekeeping.stop();
        try {
          await server.close();
        } finally {
          await repo.close();
        }
      })();
      return closing;
    },
  };
}
