import { AppError } from '@plexus/kit';
import type { FastifyRequest } from 'fastify';
import type { AuthService } from '../services/auth-service.ts';
import { bearerToken } from '../services/tokens.ts';
import type { UserRecord } from '../storage/repository.ts';

/** The session id of the request's Bearer header and its user; 401 when missing or not live. */
export async function requireSession(
  auth: AuthService,
  req: FastifyRequest,
): Promise<{ sessionId: string; user: UserRecord }> {
  const sessionId = bearerToken(req.headers.authorization);
  if (!sessionId) throw new AppError('AUTH_SESSION_REQUIRED');
  return { sessionId, user: await auth.authenticate(sessionId) };
}
