import { bodySchema, ok, parseInput, z } from '@plexus/kit';
import { HttpPaths } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../services/auth-service.ts';
import { toUserSimple } from '../services/user-simple.ts';
import type { Repository } from '../storage/repository.ts';
import { registerKeyScope } from './key-scope.ts';

const authCheckBody = z.strictObject({ sessionId: z.string().min(1).max(512) });
/** Most users one users.getByIds names: a balancer asks in chunks of this size. */
export const USERS_BY_IDS_MAX = 500;
const usersByIdsBody = z.strictObject({
  userIds: z.array(z.string().min(1).max(128)).min(1).max(USERS_BY_IDS_MAX),
});

export interface PartnerRouteDeps {
  partnerKey: string;
  auth: AuthService;
  repo: Pick<Repository, 'findUserById'>;
}

/** Server-to-server RPCs; every route requires `Authorization: Bearer <partner key>`. */
export function registerPartnerRoutes(app: FastifyInstance, deps: PartnerRouteDeps): void {
  const { partnerKey, auth, repo } = deps;
  registerKeyScope(app, partnerKey, 'AUTH_PARTNER_KEY_REQUIRED', (scope) => {
    scope.post(HttpPaths.authCheck, { schema: bodySchema(authCheckBody) }, async (req) => {
      const body = parseInput(authCheckBody, req.body);
      const user = await auth.authenticate(body.sessionId);
      return ok({ user: toUserSimple(user) });
    });
    // Unknown ids are left out; the caller keeps what it had for them.
    scope.post(HttpPaths.usersGetByIds, { schema: bodySchema(usersByIdsBody) }, async (req) => {
      const body = parseInput(usersByIdsBody, req.body);
      const found = await Promise.all([...new Set(body.userIds)].map((id) => repo.findUserById(id)));
      return ok({ users: found.flatMap((user) => (user ? [toUserSimple(user)] : [])) });
    });
  });
}
