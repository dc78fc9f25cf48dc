import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { MatchmakingService } from '../services/matchmaking-service.ts';
import { codeSchema, playgroundTypeSchema, regionSchema, tagsSchema } from './catalogue-schemas.ts';
import { playgroundIdSchema, userIdSchema } from './cluster-schemas.ts';
import { registerKeyScope } from './key-scope.ts';

const findBody = z.strictObject({
  userId: userIdSchema,
  // Criteria stay open for later rules: unknown keys are ignored, not refused.
  criteria: z
    .object({
      playgroundType: playgroundTypeSchema.optional(),
      tags: tagsSchema.optional(),
      region: regionSchema.optional(),
    })
    .optional(),
  partyId: z.string().min(1).max(64).optional(),
});
const joinBody = z.strictObject({
  userId: userIdSchema,
  playgroundId: playgroundIdSchema,
  inviteCode: codeSchema.optional(),
});

/** Matchmaking partner RPCs, called by the balancer for getEndpoint and getEndpointPlaygroundId. */
export function registerMatchmakingRoutes(
  app: FastifyInstance,
  deps: { partnerKey: string; matchmaking: MatchmakingService },
): void {
  const { matchmaking } = deps;
  registerKeyScope(app, deps.partnerKey, 'AUTH_PARTNER_KEY_REQUIRED', (scope) => {
    scope.post(HttpPaths.matchmakingFind, { schema: bodySchema(findBody) }, async (req) =>
      ok({ playgroundId: await matchmaking.findPlayground(parseInput(findBody, req.body)) }),
    );
    scope.post(HttpPaths.matchmakingJoin, { schema: bodySchema(joinBody) }, async (req) =>
      ok({ playgroundId: await matchmaking.joinPlayground(parseInput(joinBody, req.body)) }),
    );
  });
}
