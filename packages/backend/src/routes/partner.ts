import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../services/auth-service.ts';
import { toUserSimple } from '../services/user-simple.ts';
import { registerKeyScope } from './key-scope.ts';

const authCheckBody = z.strictObject({ sessionId: z.string().min(1).max(512) });

export interface PartnerRouteDeps {
  partnerKey: string;
  auth: AuthService;
}

/** Server-to-server RPCs; every route requires `Authorization: Bearer <partner key>`. */
export function registerPartnerRoutes(app: FastifyInstance, deps: PartnerRouteDeps): void {
  const { partnerKey, auth } = deps;
  registerKeyScope(app, partnerKey, 'AUTH_PARTNER_KEY_REQUIRED', (scope) => {
    scope.post(HttpPaths.authCheck, { schema: bodySchema(authCheckBody) }, async (req) => {
      const body = parseInput(authCheckBody, req.body);
      const user = await auth.authenticate(body.sessionId);
      return ok({ user: toUserSimple(user) });
    });
  });
}
