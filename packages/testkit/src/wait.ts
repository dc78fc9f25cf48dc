/** Polls `check` until it returns true; rejects after `timeoutMs` naming what was awaited. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  {
    timeoutMs = 5000,
    intervalMs = 20,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // Not there yet (e.g. connection refused while a process starts).
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
