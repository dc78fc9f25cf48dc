import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Resume tokens let a user come back to a playground as the same avatar after a dropped connection,
 * a failed server or a drain. The dedicated server that welcomes a user issues one; the balancer
 * checks it before signing a resume ticket; whichever server then hosts the playground checks it
 * again. All of them share the cluster secret, so the token is an HMAC-SHA256 over its claims:
 * `base64url(JSON claims) + "." + base64url(mac)`. It is a bearer credential for one user in one
 * playground and expires (RESUME_TOKEN_TTL_MS).
 */
export interface ResumeClaims {
  userId: string;
  playgroundId: string;
  /** The avatar entity id the user had. */
  entityId: number;
  /** Epoch milliseconds after which the token is refused. */
  expiresAt: number;
}

/** How long a resume token stays valid after it is issued. */
export const RESUME_TOKEN_TTL_MS = 10 * 60_000;
/** Longest token accepted (claims are small; this bounds the work done on hostile input). */
export const RESUME_TOKEN_MAX_LENGTH = 1024;

// A distinct key derived from the cluster secret, so a resume MAC can never be confused with any
// other use of the secret.
function keyOf(clusterSecret: string): Buffer {
  return createHmac('sha256', clusterSecret).update('plexus-resume-token-v1').digest();
}

function mac(clusterSecret: string, body: string): Buffer {
  return createHmac('sha256', keyOf(clusterSecret)).update(body).digest();
}

export function signResumeToken(clusterSecret: string, claims: ResumeClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${body}.${mac(clusterSecret, body).toString('base64url')}`;
}

/** The claims of a genuine, unexpired token; undefined for anything else. */
export function verifyResumeToken(
  clusterSecret: string,
  token: string,
  now: number = Date.now(),
): ResumeClaims | undefined {
  if (token.length > RESUME_TOKEN_MAX_LENGTH) return undefined;
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(clusterSecret, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isClaims(claims) || claims.expiresAt <= now) return undefined;
  return claims;
}

function isClaims(value: unknown): value is ResumeClaims {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.userId === 'string' &&
    typeof c.playgroundId === 'string' &&
    Number.isSafeInteger(c.entityId) &&
    typeof c.expiresAt === 'number'
  );
}
