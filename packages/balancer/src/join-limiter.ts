import { createHash } from 'node:crypto';
import { AppError, KeyedRateLimiter } from '@plexus/kit';

export interface JoinLimiterOptions {
  perSession: { burst: number; ratePerSec: number };
  perAddress: { burst: number; ratePerSec: number };
  now?: () => number;
}

/**
 * Rate limits on ticket requests (getEndpoint, getEndpointPlaygroundId), per session and per source
 * address, in memory on each balancer (docs/operations.md, limits). The session's bucket is asked
 * first, and a request it refuses takes nothing from the address's bucket: a burst from one user
 * never uses up the allowance of others behind the same address.
 */
export class JoinLimiter {
  readonly #sessions: KeyedRateLimiter;
  readonly #addresses: KeyedRateLimiter;

  constructor(options: JoinLimiterOptions) {
    const now = options.now ?? Date.now;
    this.#sessions = new KeyedRateLimiter({ ...options.perSession, now });
    this.#addresses = new KeyedRateLimiter({ ...options.perAddress, now });
  }

  /** Throws COMMON_RATE_LIMITED (429) when the session or the address is over its rate. */
  admit(sessionId: string, address: string): void {
    // Keyed by a hash: the raw session id is never kept (as in the auth cache).
    const session = createHash('sha256').update(sessionId).digest('base64url');
    if (!this.#sessions.take(session)) {
      throw new AppError('COMMON_RATE_LIMITED', 'Too many ticket requests for this session; retry shortly');
    }
    if (!this.#addresses.take(address)) {
      throw new AppError('COMMON_RATE_LIMITED', 'Too many ticket requests from this address; retry shortly');
    }
  }
}
