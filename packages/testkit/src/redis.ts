import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './free-port.ts';

/** A throwaway redis-server for tests and benchmarks. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Kills the server (SIGKILL after a short grace) and deletes its directory; idempotent. */
  stop(): Promise<void>;
}

/** Thrown by startRedis when the `redis-server` binary is not installed. */
export class RedisNotInstalledError extends Error {
  override name = 'RedisNotInstalledError';
}

const READY = /Ready to accept connections/;
const START_TIMEOUT_MS = 10_000;

/**
 * Starts `redis-server` (the Debian package; `.ci/run` installs it) on 127.0.0.1 with no persistence
 * (`--save '' --appendonly no`) and its working directory in a temp dir. On a free port by default;
 * pass `port` to restart a server on the port a stopped one used (outage tests).
 */
export async function startRedis(options: { port?: number } = {}): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error) {
    throw new RedisNotInstalledError(
      'redis-server is not installed: apt-get install redis-server (the tests start their own instance)',
    );
  }
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(port);
    } catch (err) {
      // Another process may have taken the free port in between: try another one.
      if (options.port !== undefined || attempt >= 3 || !/Address already in use/.test(String(err)))
        throw err;
    }
  }
}

async function launch(port: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-redis-'));
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--loglevel',
      'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  // If the test process dies without stop(), do not leave the server running.
  const onExit = () => proc.kill('SIGKILL');
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.off('exit', onExit);
      await kill(proc, exited);
      cleanup();
    })();
    return stopping;
  };
  try {
    await ready(proc, exited);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}

function ready(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms\n${output}`)),
      START_TIMEOUT_MS,
    );
    const onLine = (line: string) => {
      output = `${output}${line}\n`.slice(-4000);
      if (READY.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', onLine);
    createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', onLine);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited before it was ready\n${output}`));
    });
  });
}

async function kill(proc: ChildProcess, exited: Promise<void>): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const force = setTimeout(() => proc.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(force);
}
