import type { Logger } from '@plexus/kit';

/** A hook call's result: its value, or `ok: false` when it threw. */
export type HookResult<T> = { ok: true; value: T } | { ok: false };

/** A hook failing every tick logs at most once per this period (with the count it skipped). */
const ERROR_LOG_PERIOD_MS = 5_000;

/**
 * Runs the user code of a playground type so that it cannot take the server down
 * (docs/playground-logic.md): an exception is logged (at most once per 5 s per hook) and reported
 * as a failed call; a promise returned by a hook has its rejection caught the same way.
 */
export class HookRunner {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly onError: ((hook: string) => void) | undefined;
  private readonly errorLog = new Map<string, { at: number; skipped: number }>();

  constructor(log: Logger, now: () => number, onError?: (hook: string) => void) {
    this.log = log;
    this.now = now;
    this.onError = onError;
  }

  run<T>(hook: string, fn: () => T): HookResult<T> {
    try {
      const value = fn();
      if (
        value !== null &&
        typeof value === 'object' &&
        typeof (value as { then?: unknown }).then === 'function'
      ) {
        (value as unknown as Promise<unknown>).then(undefined, (err: unknown) => this.failed(hook, err));
        return { ok: true, value: undefined as T };
      }
      return { ok: true, value };
    } catch (err) {
      this.failed(hook, err);
      return { ok: false };
    }
  }

  private failed(hook: string, err: unknown): void {
    this.onError?.(hook);
    const now = this.now();
    const last = this.errorLog.get(hook);
    if (last && now - last.at < ERROR_LOG_PERIOD_MS) {
      last.skipped++;
      return;
    }
    this.errorLog.set(hook, { at: now, skipped: 0 });
    this.log.error({ err, hook, skipped: last?.skipped ?? 0 }, 'playground logic failed');
  }
}
