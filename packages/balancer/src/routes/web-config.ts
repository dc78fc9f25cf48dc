import { ok } from '@plexus/kit';
import type { FastifyInstance } from 'fastify';

/** What the world page reads at start-up (docs/operations.md, "The world page"). */
export const WEB_CONFIG_PATH = '/lb/api/v0/webConfig';

export interface WebConfig {
  /** Origins a user's `avatar3D.avatarUrl` may be loaded from; empty = default avatars only. */
  avatarOrigins: readonly string[];
  /** Largest avatar .glb the page downloads. */
  avatarMaxBytes: number;
}

/**
 * The browser page's settings. Served by the balancer (not baked into the bundle) so that an
 * operator changes the avatar allow-list with `PLEXUS_WEB_AVATAR_ORIGINS` and a restart, without
 * rebuilding the page. Public: it holds nothing secret.
 */
export function registerWebConfigRoute(app: FastifyInstance, config: WebConfig): void {
  const body = ok({ avatarOrigins: [...config.avatarOrigins], avatarMaxBytes: config.avatarMaxBytes });
  app.get(WEB_CONFIG_PATH, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return body;
  });
}
