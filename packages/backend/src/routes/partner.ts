import { ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../services/auth-service.ts';
import type { MatchmakingService } from '../services/matchmaking-service.ts';
import { toUserSimple } from '../services/user-simple.ts';
import { registerKeyScope } from './key-scope.ts';

const authCheckBody = z.strictObject({ sessionId: z.string().min(1).max(512) });
const findPlaygroundBody = z.strictObject({
  userId: z.string().min(1).max(128),
  // Criteria is open-ended for later matchmaking rules: unknown keys are ignored, not refused.
  criteria: z
    .object({
      playgroundType: z
        .string()
        .regex(/^[a-z0-9-]{1,32}$/, 'must be 1-32 characters of a-z, 0-9 and -')
        .optional(),
    })
    .optional(),
});

export interface PartnerRouteDeps {
  partnerKey: string;
  auth: AuthService;
  matchmaking: MatchmakingService;
}

/** Server-to-server RPCs; every route requires `Authorization: Bearer <partner key>`. */
export function registerPartnerRoutes(app: FastifyInstance, deps: PartnerRouteDeps): void {
  const { partnerKey, auth, matchmaking } = deps;
  registerKeyScope(app, partnerKey, 'AUTH_PARTNER_KEY_REQUIRED', (scope) => {
    scope.post(HttpPaths.authCheck, async (req) => {
      const body = parseInput(authCheckBody, req.body);
      const user = await auth.authenticate(body.sessionId);
      return ok({ user: toUserSimple(user) });
    });

    scope.post(HttpPaths.matchmakingFind, async (req) => {
      const body = parseInput(findPlaygroundBody, req.body);
      return ok({
        playgroundId: await matchmaking.findPlayground(body.userId, body.criteria?.playgroundType),
      });
    });
  });
}
