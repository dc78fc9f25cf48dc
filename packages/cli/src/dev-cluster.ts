import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatLogLine } from './log-format.ts';

type Env = Record<string, string | undefined>;

export interface DevClusterOptions {
  env: Env;
  serverCount: number;
  serverPortBase: number;
}

interface Child {
  label: string;
  proc: ChildProcess;
  url: Promise<string>;
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));
const COLORS = [36, 35, 33, 32, 34, 31];

/**
 * `plexus dev`: the whole system on one machine as separate processes — backend, one balancer and
 * N dedicated servers — with prefixed, readable logs. Ctrl-C stops them in reverse order.
 */
export async function runDevCluster(options: DevClusterOptions): Promise<void> {
  const children: Child[] = [];
  let stopping = false;
  const color = process.stdout.isTTY;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const child of [...children].reverse()) {
      if (child.proc.exitCode === null && child.proc.signalCode === null) {
        child.proc.kill('SIGTERM');
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            child.proc.kill('SIGKILL');
            resolve();
          }, 12_000);
          child.proc.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
    console.log('plexus dev: all components stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  const start = (label: string, command: string, extraEnv: Env): Child => {
    const prefix = color
      ? `\u001b[${COLORS[children.length % COLORS.length]}m[${label}]\u001b[0m`
      : `[${label}]`;
    const proc = spawn(process.execPath, [MAIN, command], {
      env: { ...process.env, ...options.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = new Promise<string>((resolve, reject) => {
      proc.once('exit', (code) => reject(new Error(`${label} exited with code ${code} before listening`)));
      createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        console.log(`${prefix} ${formatLogLine(line)}`);
        if (line.includes('"msg":"listening"')) {
          const parsed = JSON.parse(line) as { url?: string; endpoint?: string };
          // Dedicated servers also name their client WebSocket endpoint.
          if (parsed.url)
            resolve(parsed.endpoint ? `${parsed.url}  (clients: ${parsed.endpoint})` : parsed.url);
        }
      });
    });
    url.catch(() => {});
    createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (line) =>
      console.error(`${prefix} ${line}`),
    );
    proc.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${prefix} exited unexpectedly (code ${code}, signal ${signal}); stopping the cluster`);
        void stopAll(1);
      }
    });
    const child = { label, proc, url };
    children.push(child);
    return child;
  };

  try {
    const backendUrl = await start('backend', 'backend', {}).url;
    const balancerEnv: Env = { PLEXUS_BACKEND_URL: backendUrl };
    if (!options.env.PLEXUS_WEB_ROOT && existsSync(WEB_ROOT)) balancerEnv.PLEXUS_WEB_ROOT = WEB_ROOT;
    const balancerUrl = await start('balancer', 'balancer', balancerEnv).url;
    const serverUrls = await Promise.all(
      Array.from(
        { length: options.serverCount },
        (_, i) =>
          start(`ds-${i + 1}`, 'server', {
            PLEXUS_DS_PORT: String(options.serverPortBase === 0 ? 0 : options.serverPortBase + i),
            PLEXUS_DS_ID: options.env.PLEXUS_DS_ID ? `${options.env.PLEXUS_DS_ID}-${i + 1}` : `ds-${i + 1}`,
            PLEXUS_BALANCER_URL: balancerUrl,
          }).url,
      ),
    );
    console.log(
      [
        '',
        'Plexus is running:',
        `  demo + load balancer  ${balancerUrl}/`,
        `  backend               ${backendUrl}`,
        ...serverUrls.map((u, i) => `  dedicated server ${i + 1}    ${u}`),
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    console.error(`plexus dev: ${(err as Error).message}`);
    await stopAll(1);
  }
}
