/**
 * V8 settings a dedicated server runs with unless the operator chose their own (docs/operations.md,
 * "Memory of a dedicated server"):
 * - a young generation capped at 8 MB semi-spaces. With V8's default the young generation grows to
 *   64 MB during a burst of joins and stays, which is most of a server's resident memory; a smaller
 *   cap (2 MB) saves more idle memory but costs a fifth of a core under load.
 * - V8's memory saver mode: the old generation is collected before it has grown far past what is
 *   live. Without it no major GC runs during or after a burst of 1,000 joins, and the burst's
 *   promoted garbage stays in the heap (~10-20 KiB per idle client 13 s after the joins).
 * Flags can only be set at process start, hence the re-exec.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--memory-saver-mode'] as const;

/** A flag's name without its value or `no-` prefix: `--no-memory-saver-mode` sets `--memory-saver-mode`. */
function flagName(arg: string): string {
  const name = arg.split('=')[0] ?? arg;
  return name.startsWith('--no-') ? `--${name.slice(5)}` : name;
}

/** The server flags the process was not started with, in either sense (flag or NODE_OPTIONS). */
export function missingServerFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName));
  return SERVER_NODE_FLAGS.filter((flag) => !given.has(flagName(flag)));
}

/**
 * Replaces this process (same pid, so supervisors and metrics see no change) with one that has the
 * server flags the operator did not set themselves. Returns only when nothing had to change (or the
 * platform cannot exec in place).
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
