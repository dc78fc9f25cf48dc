import type { EndpointGrant } from '@plexus/protocol';
import { PlexusError, toPlexusError } from '../errors.ts';
import { Link, type LinkTarget } from './link.ts';
import { attemptVerdict, nextAttemptDelayMs, type ReconnectPolicy } from './reconnect.ts';
import type { WebSocketConstructor } from './socket.ts';

/** Why a playground handle is reconnecting. */
export type ReconnectReason =
  /** The connection closed for a resumable reason (see `closeCode`). */
  | 'closed'
  /** Nothing arrived for `livenessTimeoutMs`: the SDK closed the connection itself. */
  | 'liveness'
  /** The server moved the playground (drain) and sent the new endpoint (REDIRECT). */
  | 'redirect';

/** Argument of the `reconnecting` event: one attempt is about to start. */
export interface ReconnectingInfo {
  /** 1 for the first attempt after the drop. */
  attempt: number;
  reason: ReconnectReason;
  /** Close code of the dropped connection (3008 after a liveness timeout); absent for a redirect. */
  closeCode?: number;
  /** Wait before this attempt starts, ms (backoff with jitter; 0 for a redirect). */
  delayMs: number;
  /** Why the connection dropped (first attempt), or why the previous attempt failed. */
  error?: PlexusError;
}

/** Argument of the `reconnected` event. */
export interface ReconnectedInfo {
  /**
   * From the drop (for a liveness timeout: from the last frame received) to the new connection's
   * keyframe, ms.
   */
  downtimeMs: number;
  /** True when the server restored the earlier presence (same avatar, its position, its entities). */
  resumed: boolean;
  /** The dedicated server now hosting the playground. */
  serverId: string;
  /** Attempts it took (1 when the first one succeeded). */
  attempts: number;
  reason: ReconnectReason;
  /** True when the avatar entity id changed (not resumed): `selfId` now names a new avatar. */
  selfChanged: boolean;
  /** `selfId` before the drop. */
  previousSelfId: number;
  /** `clientId` before the drop (it usually changes: it identifies the connection). */
  previousClientId: number;
}

/** Asks the balancer again for the playground's endpoint, with the resume token when there is one. */
export type EndpointResolver = (resumeToken: string | undefined) => Promise<EndpointGrant>;

/** What started a resume. */
export interface ResumeTrigger {
  reason: ReconnectReason;
  closeCode?: number;
  error?: PlexusError;
  /** For a redirect: the new endpoint and ticket, tried first without asking the balancer. */
  redirect?: LinkTarget;
}

/** What {@link resumeLink} needs from its playground handle. */
export interface ResumeDeps {
  policy: ReconnectPolicy;
  now: () => number;
  WebSocket?: WebSocketConstructor | undefined;
  /** Absent for a handle joined without a balancer (only a redirect can be followed). */
  resolve?: EndpointResolver | undefined;
  /** The resume token of the latest WELCOME. */
  resumeToken: () => string | undefined;
  onAttempt: (info: ReconnectingInfo) => void;
  random?: () => number;
}

export type ResumeOutcome =
  | { ok: true; link: Link; attempts: number }
  | { ok: false; error: PlexusError; attempts: number }
  | { ok: false; cancelled: true };

/**
 * Gets a playground handle a new joined connection after its connection dropped: a redirect's
 * endpoint first (if any), else — and after that fails — `resolve` (the balancer, with the resume
 * token) then the handshake, attempt after attempt with backoff and jitter until one succeeds, the
 * policy's budget is spent, a failure no retry can fix happens, or `signal` aborts. Announces each
 * attempt through `onAttempt`. Never rejects.
 */
export async function resumeLink(
  trigger: ResumeTrigger,
  deps: ResumeDeps,
  signal: AbortSignal,
): Promise<ResumeOutcome> {
  const { policy } = deps;
  const startedAt = deps.now();
  let redirect = trigger.redirect;
  let withToken = true;
  let lastError = trigger.error;
  for (let attempt = 1; ; attempt++) {
    const elapsed = deps.now() - startedAt;
    let delayMs = 0;
    if (!redirect) {
      const next = deps.resolve ? nextAttemptDelayMs(attempt, elapsed, policy, deps.random) : undefined;
      if (next === undefined)
        return { ok: false, error: gaveUp(attempt - 1, elapsed, lastError), attempts: attempt - 1 };
      delayMs = next;
    }
    deps.onAttempt({
      attempt,
      reason: trigger.reason,
      ...(trigger.closeCode !== undefined ? { closeCode: trigger.closeCode } : {}),
      delayMs,
      ...(lastError ? { error: lastError } : {}),
    });
    if (delayMs > 0) await sleep(delayMs, signal);
    if (signal.aborted) return { ok: false, cancelled: true };

    const sentToken = !redirect && withToken && deps.resumeToken() !== undefined;
    try {
      const target =
        redirect ?? (await (deps.resolve as EndpointResolver)(sentToken ? deps.resumeToken() : undefined));
      if (signal.aborted) return { ok: false, cancelled: true };
      const remaining = policy.maxDowntimeMs - (deps.now() - startedAt);
      const link = await Link.open(target, {
        WebSocket: deps.WebSocket,
        // The attempt may outlast the budget a little rather than be doomed by a tiny deadline.
        timeoutMs: Math.min(policy.attemptTimeoutMs, Math.max(1000, remaining)),
        signal,
      });
      return { ok: true, link, attempts: attempt };
    } catch (err) {
      if (signal.aborted) return { ok: false, cancelled: true };
      lastError = toPlexusError(err, 'CLIENT_NETWORK_ERROR', 'Reconnect attempt failed');
      redirect = undefined;
      const verdict = attemptVerdict(lastError, sentToken);
      if (verdict === 'give-up') return { ok: false, error: lastError, attempts: attempt };
      if (verdict === 'retry-without-token') withToken = false;
    }
  }
}

function gaveUp(attempts: number, elapsedMs: number, last: PlexusError | undefined): PlexusError {
  const detail = last ? `: ${last.message}` : '';
  return PlexusError.of(
    'CLIENT_RECONNECT_FAILED',
    `Could not resume the connection (${attempts} attempt${attempts === 1 ? '' : 's'} in ${Math.round(elapsedMs)} ms)${detail}`,
    last ? { cause: last } : {},
  );
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
