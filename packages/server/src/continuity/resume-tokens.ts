import { RESUME_TOKEN_TTL_MS, type ResumeClaims, signResumeToken, verifyResumeToken } from '@plexus/kit';

/**
 * Resume tokens of this server (kit resume-token.ts, HMAC of the cluster secret): one is issued in
 * every WELCOME and in every drain relocation, and the `rt` claim of a ticket is checked with it.
 */
export class ResumeTokens {
  private readonly secret: string;
  private readonly wallClock: () => number;

  constructor(clusterSecret: string, wallClock: () => number = Date.now) {
    this.secret = clusterSecret;
    this.wallClock = wallClock;
  }

  issue(userId: string, playgroundId: string, entityId: number): string {
    return signResumeToken(this.secret, {
      userId,
      playgroundId,
      entityId,
      expiresAt: this.wallClock() + RESUME_TOKEN_TTL_MS,
    });
  }

  /**
   * The claims of a ticket's `rt` when it is genuine, unexpired and names the ticket's own user and
   * playground; undefined otherwise (the join is then a fresh one).
   */
  check(token: string | undefined, userId: string, playgroundId: string): ResumeClaims | undefined {
    if (!token) return undefined;
    const claims = verifyResumeToken(this.secret, token, this.wallClock());
    if (!claims || claims.userId !== userId || claims.playgroundId !== playgroundId) return undefined;
    return claims;
  }
}
