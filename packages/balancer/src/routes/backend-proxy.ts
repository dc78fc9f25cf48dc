import { AppError } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { AuthCache } from '../auth-cache.ts';
import { authResultOf, type BackendClient } from '../backend-client.ts';

/** `<service>.<method>`, e.g. `auth.guest`: nothing that could walk to another path once joined. */
const RPC_METHOD = /^[A-Za-z][A-Za-z0-9_]{0,63}\.[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Client RPCs whose answer is a new session and its user's current profile (an AuthResult). */
const SESSION_METHODS = new Set(['auth.guest', 'auth.login', 'auth.register']);

/**
 * Forwards client RPCs (`POST /api/v0/rpc/<service>.<method>`) to the backend unchanged, so a page
 * served by the balancer can log in same-origin. Partner routes are never forwarded.
 *
 * A login answered through here is what an authCheck of the new session would answer at that
 * moment, so it goes into the auth cache: the join that follows a login skips one backend round
 * trip (docs/api.md, the auth cache). A profile change or logout announced meanwhile wins, as for
 * any lookup (the cache's generation).
 */
export async function registerBackendProxy(
  app: FastifyInstance,
  backend: BackendClient,
  authCache: AuthCache,
): Promise<void> {
  await app.register(async (scope) => {
    // The body travels as received: the backend validates it and answers its own errors. An empty
    // body declared as JSON is refused here as everywhere (docs/api.md): forwarded as "no body", the
    // backend would read it as `{}`.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      if (body.length === 0) done(new AppError('COMMON_MALFORMED_JSON'), undefined);
      else done(null, body);
    });

    scope.post<{ Params: { method: string } }>(`${HttpPaths.rpcPrefix}:method`, async (req, reply) => {
      const { method } = req.params;
      if (!RPC_METHOD.test(method)) {
        throw new AppError('COMMON_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`);
      }
      const generation = authCache.generation;
      const res = await backend.forwardRpc({
        method,
        body: typeof req.body === 'string' ? req.body : undefined,
        authorization: req.headers.authorization,
        forwardedFor: req.ip,
      });
      if (res.status === 200 && SESSION_METHODS.has(method)) {
        const session = authResultOf(res.body);
        if (session) authCache.set(session.sessionId, session.user, generation);
      }
      return reply.code(res.status).type('application/json; charset=utf-8').send(res.body);
    });
  });
}
