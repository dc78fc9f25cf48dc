import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PlayerService } from '../services/player-service.ts';
import {
  jsonObjectSchema,
  playgroundIdSchema,
  quatSchema,
  serverIdSchema,
  userIdSchema,
  vec3Schema,
} from './cluster-schemas.ts';
import { registerKeyScope } from './key-scope.ts';

/** Largest players.save batch. */
export const PLAYERS_SAVE_MAX_BATCH = 500;
/** Body limit of players.save: the balancer's largest control message. */
export const PLAYERS_BODY_LIMIT_BYTES = 1024 * 1024;

const playerSaveFields = {
  userId: userIdSchema,
  position: vec3Schema.optional(),
  rotation: quatSchema.optional(),
  data: jsonObjectSchema.optional(),
};

const joinParams = z.strictObject({
  serverId: serverIdSchema,
  userId: userIdSchema,
  playgroundId: playgroundIdSchema,
});
const saveParams = z.strictObject({
  serverId: serverIdSchema,
  playgroundId: playgroundIdSchema,
  players: z.array(z.strictObject(playerSaveFields)).max(PLAYERS_SAVE_MAX_BATCH),
});
const leaveParams = z.strictObject({
  ...playerSaveFields,
  serverId: serverIdSchema,
  playgroundId: playgroundIdSchema,
  sessionMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

const getParams = z.strictObject({ userId: userIdSchema, playgroundId: playgroundIdSchema });

const partnerRpc = (method: string) => `${HttpPaths.partnerRpcPrefix}${method}`;

/**
 * Partner RPCs players.join / save / leave, called by dedicated servers through the balancer, and
 * the read-only players.get of the balancer and of the operator.
 */
export function registerPlayerRoutes(
  app: FastifyInstance,
  deps: { partnerKey: string; operatorKey: string; players: PlayerService },
): void {
  const { players } = deps;
  const getRecord = async (req: FastifyRequest) => {
    const { userId, playgroundId } = parseInput(getParams, req.body);
    return ok({ record: await players.get(userId, playgroundId) });
  };
  registerKeyScope(app, deps.partnerKey, 'AUTH_PARTNER_KEY_REQUIRED', (scope) => {
    scope.post(partnerRpc('players.join'), { schema: bodySchema(joinParams) }, async (req) =>
      ok(await players.join(parseInput(joinParams, req.body))),
    );
    scope.post(
      partnerRpc('players.save'),
      { bodyLimit: PLAYERS_BODY_LIMIT_BYTES, schema: bodySchema(saveParams) },
      async (req) => ok(await players.save(parseInput(saveParams, req.body))),
    );
    scope.post(partnerRpc('players.leave'), { schema: bodySchema(leaveParams) }, async (req) =>
      ok(await players.leave(parseInput(leaveParams, req.body))),
    );
    // The balancer reads the record when it issues a ticket, so that admission need not wait for it.
    scope.post(HttpPaths.playersGet, { schema: bodySchema(getParams) }, getRecord);
  });
  registerKeyScope(app, deps.operatorKey, 'OPERATOR_KEY_REQUIRED', (scope) => {
    scope.post(`${HttpPaths.operatorRpcPrefix}players.get`, { schema: bodySchema(getParams) }, getRecord);
  });
}
