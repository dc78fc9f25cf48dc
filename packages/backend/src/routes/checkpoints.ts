import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { CheckpointService } from '../services/checkpoint-service.ts';
import {
  jsonObjectSchema,
  playgroundIdSchema,
  propsSchema,
  quatSchema,
  serverIdSchema,
  userIdSchema,
  vec3Schema,
} from './cluster-schemas.ts';
import { registerKeyScope } from './key-scope.ts';

/**
 * Body limit of checkpoints.write: above CHECKPOINT_MAX_BYTES so that an oversize checkpoint is
 * answered CHECKPOINT_TOO_LARGE, and equal to the balancer's largest control message.
 */
export const CHECKPOINT_BODY_LIMIT_BYTES = 1024 * 1024;
export const CHECKPOINT_MAX_ENTITIES = 20_000;
export const CHECKPOINT_MAX_AVATARS = 10_000;

const entityId = z.number().int().min(0).max(0xffff_ffff);
const safeCount = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

// Loose objects: the checkpoint is the server's opaque state; the known fields are checked, any
// others are kept as they are (bounded by the size limit).
const checkpointState = z.looseObject({
  type: z.string().min(1).max(64),
  nextEntityId: entityId,
  entities: z
    .array(
      z.looseObject({
        id: entityId,
        kind: z.string().min(1).max(64),
        position: vec3Schema,
        rotation: quatSchema,
        props: propsSchema,
        ownerUserId: userIdSchema.nullable(),
      }),
    )
    .max(CHECKPOINT_MAX_ENTITIES),
  avatars: z
    .array(
      z.looseObject({
        userId: userIdSchema,
        entityId,
        position: vec3Schema,
        rotation: quatSchema,
        props: propsSchema,
        joinedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
        data: jsonObjectSchema.optional(),
      }),
    )
    .max(CHECKPOINT_MAX_AVATARS),
  logic: z.unknown().optional(),
});

const claimParams = z.strictObject({ serverId: serverIdSchema, playgroundId: playgroundIdSchema });
const writeParams = z.strictObject({
  serverId: serverIdSchema,
  playgroundId: playgroundIdSchema,
  epoch: safeCount,
  version: safeCount,
  state: checkpointState,
});
const getParams = z.strictObject({ playgroundId: playgroundIdSchema });

const partnerRpc = (method: string) => `${HttpPaths.partnerRpcPrefix}${method}`;

export interface CheckpointRouteDeps {
  partnerKey: string;
  operatorKey: string;
  checkpoints: CheckpointService;
}

/**
 * Partner RPCs checkpoints.claim / write / get (the balancer forwards its servers' control RPCs here
 * with `serverId` set) and the operator's checkpoints.get for diagnostics.
 */
export function registerCheckpointRoutes(app: FastifyInstance, deps: CheckpointRouteDeps): void {
  const { checkpoints } = deps;
  const get = async (body: unknown) => ok(await checkpoints.status(parseInput(getParams, body).playgroundId));

  registerKeyScope(app, deps.partnerKey, 'AUTH_PARTNER_KEY_REQUIRED', (scope) => {
    scope.post(partnerRpc('checkpoints.claim'), { schema: bodySchema(claimParams) }, async (req) => {
      const params = parseInput(claimParams, req.body);
      return ok(await checkpoints.claim(params.serverId, params.playgroundId));
    });
    scope.post(
      partnerRpc('checkpoints.write'),
      { bodyLimit: CHECKPOINT_BODY_LIMIT_BYTES, schema: bodySchema(writeParams) },
      async (req) => ok(await checkpoints.write(parseInput(writeParams, req.body))),
    );
    scope.post(partnerRpc('checkpoints.get'), { schema: bodySchema(getParams) }, async (req) =>
      get(req.body),
    );
  });
  registerKeyScope(app, deps.operatorKey, 'OPERATOR_KEY_REQUIRED', (scope) => {
    scope.post(
      `${HttpPaths.operatorRpcPrefix}checkpoints.get`,
      { schema: bodySchema(getParams) },
      async (req) => get(req.body),
    );
  });
}
