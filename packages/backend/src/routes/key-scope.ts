import { AppError } from '@plexus/kit';
import type { ErrorName } from '@plexus/protocol';
import type { FastifyInstance } from 'fastify';
import { bearerToken, secretsEqual } from '../services/tokens.ts';

/**
 * Registers routes in an encapsulated scope that requires `Authorization: Bearer <key>`. The check
 * runs on `onRequest`, before the body is read: callers without the key learn nothing else.
 */
export function registerKeyScope(
  app: FastifyInstance,
  key: string,
  missing: ErrorName,
  register: (scope: FastifyInstance) => void,
): void {
  app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      const given = bearerToken(req.headers.authorization);
      if (given === undefined || !secretsEqual(given, key)) throw new AppError(missing);
    });
    register(scope);
  });
}
