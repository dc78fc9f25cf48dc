import { AppError, ok } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import { bearerKeyCheck } from '../bearer-key.ts';
import { SERVER_ID_PATTERN } from '../control-messages.ts';
import type { ServerRouter } from '../server-router.ts';

export interface AdminRouteDeps {
  operatorKey: string;
  router: Pick<ServerRouter, 'drain'>;
}

/**
 * Operator routes under `/lb/api/v0/admin/`, all behind `Authorization: Bearer <operator key>`,
 * checked before the body is read.
 */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminRouteDeps): void {
  const authorized = bearerKeyCheck(deps.operatorKey);
  app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      if (!authorized(req.headers.authorization)) throw new AppError('OPERATOR_KEY_REQUIRED');
    });

    /**
     * Drains a server wherever its control socket is: no new placements on it (for every balancer),
     * and the `drain` command, after which the server moves its playgrounds away and exits.
     */
    scope.post<{ Params: { serverId: string } }>(
      `${HttpPaths.adminServersPrefix}:serverId/drain`,
      async (req, reply) => {
        const { serverId } = req.params;
        if (!SERVER_ID_PATTERN.test(serverId) || !(await deps.router.drain(serverId))) {
          throw new AppError('LB_SERVER_UNKNOWN', `No dedicated server ${serverId.slice(0, 64)}`);
        }
        return reply.code(202).send(ok({ serverId, draining: true }));
      },
    );
  });
}
