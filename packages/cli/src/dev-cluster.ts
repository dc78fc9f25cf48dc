import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Autoscaler } from '@plexus/balancer';
import { createLogger } from '@plexus/kit';
import type { DevClusterConfig } from './dev-config.ts';
import { type Launched, type ListenInfo, LocalProcessProvider } from './local-process-provider.ts';
import { formatLogLine } from './log-format.ts';
import { Supervisor } from './supervisor.ts';

type Env = Record<string, string | undefined>;

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));
const COLORS = [36, 35, 33, 32, 34, 31];
/** SIGTERM, then SIGKILL this long after (a backend's or balancer's shutdown gives up after 10 s). */
const KILL_AFTER_MS = 12_000;
/**
 * A dedicated server's shutdown drains first and gives up PLEXUS_DS_DRAIN_TIMEOUT_MS + 15 s after
 * SIGTERM; it gets a little more before SIGKILL, and as long to leave after a drain request.
 */
const SERVER_SLACK_MS = 20_000;

/**
 * `plexus dev`: the whole system on one machine as separate processes — backend, one balancer and
 * N dedicated servers — with prefixed, readable logs. A supervisor restarts any of them that dies;
 * the autoscaler adds and drains dedicated servers with the load. Ctrl-C stops them in reverse order
 * (the dedicated servers together).
 */
export async function runDevCluster(config: DevClusterConfig, env: Env): Promise<void> {
  const color = process.stdout.isTTY;
  let launches = 0;
  const prefixOf = (label: string) =>
    color ? `\u001b[${COLORS[launches++ % COLORS.length]}m[${label}]\u001b[0m` : `[${label}]`;
  const logger = createLogger({
    component: 'dev',
    level: config.logLevel,
    destination: linePrinter(prefixOf('dev')),
  });
  const supervisor = new Supervisor({
    logger,
    policy: {
      backoffMinMs: config.restartMinMs,
      backoffMaxMs: config.restartMaxMs,
      resetAfterMs: config.restartResetAfterMs,
      maxFastCrashes: config.restartMaxCrashes,
    },
  });
  // One operator key for everyone, so the balancer accepts the autoscaler's drains.
  const common: Env = { ...env, PLEXUS_OPERATOR_KEY: config.operatorKey };
  let autoscaler: Autoscaler | null = null;
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    // Both flags are set at once: a child that exits from here on (Ctrl-C reaches the whole process
    // group) is not restarted, and no server is added.
    const scaled = autoscaler?.stop();
    const stopped = supervisor.stopAll();
    await scaled;
    await stopped;
    console.log('plexus dev: all components stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  /**
   * Starts `plexus <command>` under the supervisor. `portVariable` pins the port the first run bound
   * (it may be ephemeral), so a restarted backend or balancer comes back at the same URL.
   */
  const launch = (
    label: string,
    command: 'backend' | 'balancer' | 'server',
    extraEnv: Env,
    options: {
      portVariable?: string;
      cleanExitIsFinal?: boolean;
      killAfterMs?: number;
      stopGroup?: string;
    } = {},
  ): Launched => {
    const prefix = prefixOf(label);
    let resolveListening!: (info: ListenInfo) => void;
    const listening = new Promise<ListenInfo>((resolve) => {
      resolveListening = resolve;
    });
    const proc = supervisor.start({
      name: label,
      command: process.execPath,
      args: [MAIN, command],
      env: { ...process.env, ...common, ...extraEnv },
      cleanExitIsFinal: options.cleanExitIsFinal ?? false,
      killAfterMs: options.killAfterMs ?? KILL_AFTER_MS,
      ...(options.stopGroup ? { stopGroup: options.stopGroup } : {}),
      onLine: (line, stream, p) => {
        if (stream === 'stderr') {
          console.error(`${prefix} ${line}`);
          return;
        }
        console.log(`${prefix} ${formatLogLine(line)}`);
        if (!line.includes('"msg":"listening"')) return;
        let parsed: { url?: string; endpoint?: string };
        try {
          parsed = JSON.parse(line);
        } catch {
          return;
        }
        if (!parsed.url) return;
        p.markUp();
        if (options.portVariable) p.updateEnv({ [options.portVariable]: new URL(parsed.url).port });
        resolveListening(
          parsed.endpoint ? { url: parsed.url, endpoint: parsed.endpoint } : { url: parsed.url },
        );
      },
    });
    const ended = proc.ended.then((reason) => {
      throw new Error(`${label} ${reason === 'failed-to-start' ? 'exited before listening' : reason}`);
    });
    ended.catch(() => {});
    return { proc, listening: Promise.race([listening, ended]) };
  };

  /** The backend and the balancer are the cluster: if one stays down, stop everything. */
  const critical = (launched: Launched, label: string) => {
    void launched.proc.ended.then((reason) => {
      // A failure before listening is reported by the start-up below.
      if (stopping || reason === 'stopped' || reason === 'failed-to-start') return;
      console.error(`plexus dev: the ${label} stays down (${reason}); stopping the cluster`);
      void stopAll(1);
    });
    return launched.listening;
  };

  try {
    const backend = await critical(
      launch('backend', 'backend', {}, { portVariable: 'PLEXUS_BACKEND_PORT' }),
      'backend',
    );
    const balancerEnv: Env = { PLEXUS_BACKEND_URL: backend.url };
    if (!env.PLEXUS_WEB_ROOT && existsSync(WEB_ROOT)) balancerEnv.PLEXUS_WEB_ROOT = WEB_ROOT;
    const balancer = await critical(
      launch('balancer', 'balancer', balancerEnv, { portVariable: 'PLEXUS_LB_PORT' }),
      'balancer',
    );
    const serverKillAfterMs = config.serverDrainTimeoutMs + SERVER_SLACK_MS;
    const provider = new LocalProcessProvider({
      host: config.serverHost,
      portBase: config.serverPortBase,
      idPrefix: config.serverIdPrefix,
      // A dedicated server exits 0 only when it drained (or was told to shut down): that is final.
      launch: (id, serverEnv) =>
        launch(
          id,
          'server',
          { ...serverEnv, PLEXUS_BALANCER_URL: balancer.url },
          // Ctrl-C drains every server at once, then stops the balancer and the backend.
          { cleanExitIsFinal: true, killAfterMs: serverKillAfterMs, stopGroup: 'servers' },
        ),
    });
    const servers = await Promise.all(Array.from({ length: config.serverCount }, () => provider.start()));
    if (config.autoscale) {
      autoscaler = new Autoscaler({
        provider,
        balancerUrl: balancer.url,
        operatorKey: config.operatorKey,
        policy: {
          minServers: config.serverCount,
          maxServers: config.serverMax,
          minFreeSeats: config.minFreeSeats,
          maxFreeSeats: config.maxFreeSeats,
          cooldownMs: config.autoscaleCooldownMs,
        },
        intervalMs: config.autoscaleIntervalMs,
        drainGraceMs: serverKillAfterMs,
        logger,
      });
      autoscaler.start();
    }
    console.log(
      [
        '',
        'Plexus is running:',
        `  demo + load balancer  ${balancer.url}/`,
        `  backend               ${backend.url}`,
        ...servers.map((s) => `  ${s.id.padEnd(20)}  ${s.endpoint}`),
        config.autoscale
          ? `  autoscaling           ${config.serverCount}–${config.serverMax} servers, ` +
            `${config.minFreeSeats}–${config.maxFreeSeats} free seats (PLEXUS_AUTOSCALE=false turns it off)`
          : '  autoscaling           off',
        'Processes that die are restarted. Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    console.error(`plexus dev: ${(err as Error).message}`);
    await stopAll(1);
  }
}

/** A pino destination that prints each NDJSON line as a short prefixed line (like the children's). */
function linePrinter(prefix: string): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) console.log(`${prefix} ${formatLogLine(line)}`);
      done();
    },
  });
}
