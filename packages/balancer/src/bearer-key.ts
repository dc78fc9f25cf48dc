import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A check of an `Authorization: Bearer <key>` header against one secret (the cluster secret on the
 * control channel, the operator key on the admin routes). Both sides are hashed first: digests have
 * equal length, so the comparison time does not depend on the guess.
 */
export function bearerKeyCheck(secret: string): (header: string | undefined) => boolean {
  const expected = digest(secret);
  return (header) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
  };
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
