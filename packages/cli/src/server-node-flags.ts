/**
 * V8 settings a dedicated server runs with unless the operator chose their own (docs/operations.md,
 * "Memory of a dedicated server"): a young generation capped at 8 MB semi-spaces. With V8's default
 * the young generation grows to 64 MB during a burst of joins and stays, which is most of a server's
 * resident memory; a smaller cap (2 MB) saves more idle memory but costs a fifth of a core under
 * load. The cap can only be set at process start, hence the re-exec.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8'] as const;

const FLAG_NAME = '--max-semi-space-size';

/** True when the process was started with a semi-space size (flag or NODE_OPTIONS). */
export function hasSemiSpaceFlag(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const named = (a: string) => a === FLAG_NAME || a.startsWith(`${FLAG_NAME}=`);
  return execArgv.some(named) || (nodeOptions ?? '').split(/\s+/).some(named);
}

/**
 * Replaces this process (same pid, so supervisors and metrics see no change) with one that has the
 * server flags, unless they or an operator's own semi-space size are already set. Returns only when
 * nothing had to change (or the platform cannot exec in place).
 */
export function ensureServerNodeFlags(): void {
  if (hasSemiSpaceFlag(process.execArgv, process.env.NODE_OPTIONS)) return;
  if (typeof process.execve !== 'function' || process.platform === 'win32') return;
  const script = process.argv[1];
  if (script === undefined) return;
  process.execve(
    process.execPath,
    [process.execPath, ...SERVER_NODE_FLAGS, ...process.execArgv, script, ...process.argv.slice(2)],
    process.env,
  );
}
