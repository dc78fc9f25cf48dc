import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));

export interface ComponentProcess {
  name: string;
  proc: ChildProcess;
  /** The URL from the component's `listening` log line. */
  url: string;
  /** Every NDJSON log record the process wrote so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL: a crash, for failure tests. */
  kill(): Promise<number | null>;
}

/** Children still running; killed if this process exits without stopping them (a crashed test or bench). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `plexus <command>` as a real child process and resolves once it logged `listening`.
 * stdout is parsed as NDJSON; stderr is kept for the failure message.
 */
export function startComponent(
  name: string,
  command: 'backend' | 'balancer' | 'server',
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ComponentProcess> {
  const proc = spawn(process.execPath, [CLI, command], {
    // `info` at least: the `listening` line is how the kit learns the bound port.
    env: { ...process.env, ...env, PLEXUS_LOG_LEVEL: env.PLEXUS_LOG_LEVEL === 'debug' ? 'debug' : 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening\n${stderr}`));
    });
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(rec);
      if (rec.msg === 'listening' && typeof rec.url === 'string') {
        clearTimeout(timer);
        const stopWith = async (signal: NodeJS.Signals, graceMs: number) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
          proc.kill(signal);
          const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
          const code = await exited;
          clearTimeout(t);
          return code;
        };
        resolve({
          name,
          proc,
          url: rec.url,
          logs,
          exited,
          stop: (graceMs = 10_000) => stopWith('SIGTERM', graceMs),
          kill: () => stopWith('SIGKILL', 0),
        });
      }
    });
  });
}
