import { AppError } from '@plexus/kit';
import { CONSOLE_OPERATOR_RPC_PREFIX, CONSOLE_STREAM_PATH, HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { BackendClient } from '../backend-client.ts';
import { bearerKeyCheck } from '../bearer-key.ts';
import type { ConsoleFeed } from '../console/feed.ts';

/** Operator RPCs the console may call, forwarded to the backend's `/api/v0/operatorRpc/<method>`. */
export const CONSOLE_OPERATOR_METHODS = [
  'analytics.summary',
  'playgrounds.list',
  'playgrounds.close',
  'events.publish',
] as const;
/** The console page (packages/web/src/admin), served from the web root. */
export const CONSOLE_PAGE_PATH = '/admin';

export interface ConsoleRouteDeps {
  operatorKey: string;
  feed: ConsoleFeed;
  backend: Pick<BackendClient, 'forwardRpc'>;
}

const FORWARDED = new Set<string>(CONSOLE_OPERATOR_METHODS);

/**
 * The operator console's API on the balancer (docs/api.md, "Operator console"): the live stream and
 * a narrow proxy to the backend's operator RPCs, so the page talks to one origin. Both sit behind
 * `Authorization: Bearer <operator key>`, checked before anything else; the backend checks the key
 * again on the forwarded call.
 */
export function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleRouteDeps): void {
  const authorized = bearerKeyCheck(deps.operatorKey);
  app.get(CONSOLE_PAGE_PATH, async (_req, reply) => reply.redirect(`${CONSOLE_PAGE_PATH}/`));

  app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      if (!authorized(req.headers.authorization)) throw new AppError('OPERATOR_KEY_REQUIRED');
    });
    // Bodies travel as received: the backend validates them and answers its own errors.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      done(null, body);
    });

    scope.get(CONSOLE_STREAM_PATH, async (_req, reply) => {
      if (deps.feed.full) throw new AppError('LB_CONSOLE_STREAMS_FULL');
      reply.hijack();
      deps.feed.add(reply.raw);
    });

    scope.post<{ Params: { method: string } }>(
      `${CONSOLE_OPERATOR_RPC_PREFIX}:method`,
      async (req, reply) => {
        const { method } = req.params;
        if (!FORWARDED.has(method)) throw new AppError('LB_CONSOLE_METHOD_UNKNOWN');
        const res = await deps.backend.forwardRpc({
          method,
          prefix: HttpPaths.operatorRpcPrefix,
          body: typeof req.body === 'string' && req.body.length > 0 ? req.body : undefined,
          authorization: req.headers.authorization,
          forwardedFor: req.ip,
        });
        if (res.status < 300 && method !== 'analytics.summary') void deps.feed.push();
        return reply.code(res.status).type('application/json; charset=utf-8').send(res.body);
      },
    );
  });
}
