/**
 * V8 settings a dedicated server runs with unless the operator chose their own (docs/operations.md,
 * "Memory of a dedicated server"):
 * - a young generation capped at 8 MB semi-spaces. With V8's default the young generation grows to
 *   64 MB during a burst of joins and stays, which is most of a server's resident memory; a smaller
 *   cap (2 MB) saves more idle memory but costs a fifth of a core under load;
 * - `--expose-gc`, so that the server can give a burst's memory back once it is quiet
 *   (`packages/server/src/memory/idle-reclaim.ts`).
 * Both can only be set at process start, hence the re-exec.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--expose-gc'] as const;

/** The name of a flag (`--max-semi-space-size=8` → `--max-semi-space-size`). */
function flagName(flag: string): string {
  return flag.split('=')[0] as string;
}

/** The server flags not already set by name on the command line or in NODE_OPTIONS. */
export function missingServerFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName));
  return SERVER_NODE_FLAGS.filter((f) => !given.has(flagName(f)));
}

/**
 * Replaces this process (same pid, so supervisors and metrics see no change) with one that has the
 * server flags it lacks; an operator's own value of a flag is kept. Returns only when nothing had
 * to change (or the platform cannot exec in place).
 */
export function ensureServerNodeFlags(): void {
  const missing = missingServerFlags(process.execArgv, process.env.NODE_OPTIONS);
  if (missing.length === 0) return;
  if (typeof process.execve !== 'function' || process.platform === 'win32') return;
  const script = process.argv[1];
  if (script === undefined) return;
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, script, ...process.argv.slice(2)],
    process.env,
  );
}
