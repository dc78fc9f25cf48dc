import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { type EventTarget, HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { EventService } from '../services/event-service.ts';
import { playgroundIdSchema, serverIdSchema, userIdSchema } from './cluster-schemas.ts';
import { registerKeyScope } from './key-scope.ts';

const targetSchema = z
  .strictObject({
    userId: userIdSchema.optional(),
    playgroundId: playgroundIdSchema.optional(),
    all: z.literal(true).optional(),
  })
  .refine(
    (t) => [t.userId, t.playgroundId, t.all].filter((v) => v !== undefined).length === 1,
    'must name exactly one of userId, playgroundId, all',
  )
  .transform(
    (t): EventTarget =>
      t.userId !== undefined
        ? { userId: t.userId }
        : t.playgroundId !== undefined
          ? { playgroundId: t.playgroundId }
          : { all: true },
  );
const eventFields = {
  target: targetSchema,
  type: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z, a-z, 0-9, . _ - :'),
  payload: z.unknown(),
};
const operatorParams = z.strictObject(eventFields);
const serverParams = z.strictObject({
  ...eventFields,
  serverId: serverIdSchema,
  fromUserId: userIdSchema.optional(),
});

/**
 * `events.publish` twice: as a partner RPC (a dedicated server through the balancer, `serverId` set
 * by it; from = the server, on behalf of `fromUserId`) and as an operator RPC (from = operator).
 */
export function registerEventRoutes(
  app: FastifyInstance,
  deps: { partnerKey: string; operatorKey: string; events: EventService },
): void {
  const { events } = deps;
  registerKeyScope(app, deps.partnerKey, 'AUTH_PARTNER_KEY_REQUIRED', (scope) => {
    scope.post(
      `${HttpPaths.partnerRpcPrefix}events.publish`,
      { schema: bodySchema(serverParams) },
      async (req) => {
        const { serverId, fromUserId, ...input } = parseInput(serverParams, req.body);
        const from = {
          kind: 'server',
          serverId,
          ...(fromUserId === undefined ? {} : { userId: fromUserId }),
        } as const;
        return ok(await events.publish(from, input));
      },
    );
  });
  registerKeyScope(app, deps.operatorKey, 'OPERATOR_KEY_REQUIRED', (scope) => {
    scope.post(
      `${HttpPaths.operatorRpcPrefix}events.publish`,
      { schema: bodySchema(operatorParams) },
      async (req) => ok(await events.publish({ kind: 'operator' }, parseInput(operatorParams, req.body))),
    );
  });
}
