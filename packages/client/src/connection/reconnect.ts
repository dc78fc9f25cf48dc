import { CloseCodes } from '@plexus/protocol';
import type { PlexusError } from '../errors.ts';

/** How a playground handle resumes by itself after its connection drops (all optional). */
export interface ReconnectOptions {
  /** Attempts before giving up (default: no limit; `maxDowntimeMs` decides). */
  maxAttempts?: number;
  /** Give up once the connection has been down this long, ms (default 30 000). */
  maxDowntimeMs?: number;
  /** Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs × 2^(n−1))), ms (default 100). */
  baseDelayMs?: number;
  /** Backoff cap, ms (default 2 000). */
  maxDelayMs?: number;
  /** Deadline of one attempt's WebSocket handshake (open, HELLO, WELCOME, keyframe), ms (default 5 000). */
  attemptTimeoutMs?: number;
}

/** {@link ReconnectOptions} with every default applied. */
export interface ReconnectPolicy {
  maxAttempts: number;
  maxDowntimeMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  attemptTimeoutMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  maxAttempts: Number.POSITIVE_INFINITY,
  maxDowntimeMs: 30_000,
  baseDelayMs: 100,
  maxDelayMs: 2000,
  attemptTimeoutMs: 5000,
};

/** The policy of `options` (undefined when reconnecting is switched off with `false`). */
export function reconnectPolicy(options: ReconnectOptions | false | undefined): ReconnectPolicy | undefined {
  if (options === false) return undefined;
  const policy = { ...DEFAULT_RECONNECT };
  for (const key of Object.keys(DEFAULT_RECONNECT) as (keyof ReconnectPolicy)[]) {
    const value = options?.[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new RangeError(`reconnect.${key} must be a number ≥ 0 (got ${String(value)})`);
    }
    policy[key] = value;
  }
  return policy;
}

/**
 * The delay before attempt `attempt` (1-based): exponential backoff with full jitter — a uniformly
 * random wait in [0, min(maxDelayMs, baseDelayMs × 2^(attempt−1))). The first attempt waits at most
 * `baseDelayMs` (almost at once); random waits spread the clients of a failed server over time
 * instead of letting them all hit the balancer in the same instant.
 */
export function backoffDelayMs(
  attempt: number,
  policy: Pick<ReconnectPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}

/**
 * When attempt `attempt` may start, `elapsedMs` after the connection dropped: its delay, or
 * undefined when the policy says to give up (attempts or downtime spent). A delay never runs past
 * the downtime budget, so the last attempt starts at the latest at `maxDowntimeMs`.
 */
export function nextAttemptDelayMs(
  attempt: number,
  elapsedMs: number,
  policy: ReconnectPolicy,
  random: () => number = Math.random,
): number | undefined {
  if (attempt > policy.maxAttempts || elapsedMs >= policy.maxDowntimeMs) return undefined;
  return Math.min(backoffDelayMs(attempt, policy, random), policy.maxDowntimeMs - elapsedMs);
}

/** Local close code of a socket the SDK closes because nothing arrived (IANA 3008, "timeout"). */
export const LIVENESS_CLOSE_CODE = 3008;

/**
 * Close codes after which the client resumes by itself: the link or the server failed, or the
 * server asks the client to go elsewhere — never a verdict about the client.
 */
const RESUMABLE_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCodes.GOING_AWAY, // 1001: the server stops
  1006, // no close frame: the network or a crashed server
  1011, // the server hit an unexpected condition
  1012, // service restart
  1013, // try again later
  CloseCodes.SLOW_CONSUMER, // 4007: a stalled link; a fresh connection starts with a keyframe
  CloseCodes.IDLE_TIMEOUT, // 4009: our PINGs did not get through
  CloseCodes.SHUTTING_DOWN, // 4010
  CloseCodes.NOT_READY, // 4012
  CloseCodes.PLAYGROUND_MOVED, // 4014: resolve the playground again
  LIVENESS_CLOSE_CODE,
]);

/**
 * True when a connection that closed with `code` should be resumed. Fatal codes (4000 protocol
 * error, 4001 version, 4008 duplicate login, 4013 join refused, 1008 rate limit, …) and a normal
 * close (1000) end the playground handle.
 */
export function isResumableClose(code: number): boolean {
  return RESUMABLE_CLOSE_CODES.has(code);
}

/** What to do after a failed reconnect attempt. */
export type AttemptVerdict = 'retry' | 'retry-without-token' | 'give-up';

/** Failures no later attempt can fix: the session is gone, or the server refuses this client. */
const HOPELESS: ReadonlySet<string> = new Set([
  'AUTH_INVALID_SESSION',
  'AUTH_SESSION_REQUIRED',
  'LB_SESSION_REQUIRED',
  'PROTOCOL_UNSUPPORTED_VERSION',
  'PROTOCOL_DUPLICATE_LOGIN',
  'PROTOCOL_JOIN_REFUSED',
]);

/**
 * Classifies the failure of one reconnect attempt (the balancer call or the handshake):
 * - give up at once when no retry can help (session invalid, refused, a 4xx answer of the balancer);
 * - retry without the resume token when the balancer refused the token (400, e.g.
 *   `LB_RESUME_INVALID`: expired or for another user) — the user then comes back with a new avatar;
 * - retry otherwise (network, timeouts, 5xx, 409/429, handshake refusals such as a used ticket or a
 *   full or draining server).
 */
export function attemptVerdict(error: PlexusError, sentResumeToken: boolean): AttemptVerdict {
  if (HOPELESS.has(error.name)) return 'give-up';
  // Handshake refusals (5xxx) and local failures (6xxx) are about this attempt only.
  if (error.code >= 5000 && error.code < 7000) return 'retry';
  if (error.status === 400 && sentResumeToken) return 'retry-without-token';
  if (error.status >= 500 || error.status === 408 || error.status === 409 || error.status === 429) {
    return 'retry';
  }
  return 'give-up';
}
