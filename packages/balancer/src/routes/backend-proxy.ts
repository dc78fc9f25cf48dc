import { AppError } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { BackendClient } from '../backend-client.ts';

/** `<service>.<method>`, e.g. `auth.guest`: nothing that could walk to another path once joined. */
const RPC_METHOD = /^[A-Za-z][A-Za-z0-9_]{0,63}\.[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Forwards client RPCs (`POST /api/v0/rpc/<service>.<method>`) to the backend unchanged, so a page
 * served by the balancer can log in same-origin. Partner routes are never forwarded.
 */
export async function registerBackendProxy(app: FastifyInstance, backend: BackendClient): Promise<void> {
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
      const res = await backend.forwardRpc({
        method,
        body: typeof req.body === 'string' ? req.body : undefined,
        authorization: req.headers.authorization,
        forwardedFor: req.ip,
      });
      return reply.code(res.status).type('application/json; charset=utf-8').send(res.body);
    });
  });
}
