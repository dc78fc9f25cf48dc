import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '@plexus/kit';

/** When and how often a process that died is started again. */
export interface RestartPolicy {
  /** Delay before the first restart; it doubles with every fast crash in a row. */
  backoffMinMs: number;
  /** Longest delay between restarts. */
  backoffMaxMs: number;
  /** A run at least this long is stable: a crash after it starts the backoff over. */
  resetAfterMs: number;
  /** Fast crashes in a row (each within `resetAfterMs` of its start) after which the process stays down. */
  maxFastCrashes: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  backoffMinMs: 250,
  backoffMaxMs: 10_000,
  resetAfterMs: 30_000,
  maxFastCrashes: 5,
};

/** Delay before restarting after `fastCrashes` fast crashes in a row (0 after a stable run). */
export function restartDelayMs(fastCrashes: number, policy: RestartPolicy): number {
  return Math.min(policy.backoffMaxMs, policy.backoffMinMs * 2 ** Math.max(0, fastCrashes - 1));
}

type Env = Record<string, string | undefined>;

export interface ProcessSpec {
  /**
   * Name in the supervisor's log lines, as `process` (`component` names the process that logs,
   * `plexus dev` itself; the child's pid is `childPid`).
   */
  name: string;
  command: string;
  args: string[];
  env: Env;
  /**
   * Exit code 0 means the process stopped on purpose (a dedicated server that drained): it is not
   * restarted. Otherwise any exit the supervisor did not ask for is a crash.
   */
  cleanExitIsFinal?: boolean;
  /** When it is stopped: SIGTERM, then SIGKILL this long after (default 12 s). */
  killAfterMs?: number;
  /**
   * Processes started one after another with the same group are stopped together (the dedicated
   * servers: each drains for up to its timeout, and they need not wait for one another).
   */
  stopGroup?: string;
  /** Every line of the process's stdout and stderr (the pipes are always read, so it never blocks). */
  onLine?: (line: string, stream: 'stdout' | 'stderr', proc: SupervisedProcess) => void;
}

/**
 * Why a supervised process ended for good: `stopped` (asked to), `exited` (a clean exit that is
 * final, or an exit after `retire()`), `failed-to-start` (it never came up: restarting would not fix a
 * bad configuration or a taken port), `gave-up` (too many fast crashes in a row).
 */
export type EndReason = 'stopped' | 'exited' | 'failed-to-start' | 'gave-up';

interface SupervisorContext {
  logger: Logger;
  policy: RestartPolicy;
  now: () => number;
  isShuttingDown: () => boolean;
}

/** One process kept running by a Supervisor. */
export class SupervisedProcess {
  readonly name: string;
  readonly stopGroup: string | undefined;
  /** Resolves once the process is down for good; it is never started again after that. */
  readonly ended: Promise<EndReason>;
  #spec: ProcessSpec;
  #ctx: SupervisorContext;
  #child: ChildProcess | null = null;
  #startedAt = 0;
  #everUp = false;
  #fastCrashes = 0;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | null = null;
  #stopping = false;
  #retired = false;
  #done = false;
  #resolveEnded!: (reason: EndReason) => void;

  constructor(spec: ProcessSpec, ctx: SupervisorContext) {
    this.name = spec.name;
    this.stopGroup = spec.stopGroup;
    this.#spec = { ...spec, env: { ...spec.env } };
    this.#ctx = ctx;
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.#spawn();
  }

  /** Pid of the running process; undefined while it waits to be restarted or once it ended. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How many times it was restarted after a crash. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Records that the process came up (e.g. logged `listening`); an exit before the first one is final. */
  markUp(): void {
    this.#everUp = true;
  }

  /** Changes the environment of later restarts (e.g. pins the port the first run bound). */
  updateEnv(patch: Env): void {
    Object.assign(this.#spec.env, patch);
  }

  /** Its next exit, whatever the code, is final: it is being drained away. */
  retire(): void {
    this.#retired = true;
    if (!this.#child) this.#end('exited');
  }

  /** SIGTERM, then SIGKILL after `graceMs` (default: the spec's `killAfterMs`); never restarted. Resolves once it is down. */
  async stop(graceMs = this.#spec.killAfterMs ?? 12_000): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (!child) {
      this.#end('stopped');
      return;
    }
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.ended;
    clearTimeout(kill);
  }

  #spawn(): void {
    this.#restartTimer = null;
    const child = spawn(this.#spec.command, this.#spec.args, {
      env: this.#spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#startedAt = this.#ctx.now();
    const onLine = this.#spec.onLine;
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream] as NodeJS.ReadableStream }).on('line', (line) =>
        onLine?.(line, stream, this),
      );
    }
    let exited = false;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (exited) return;
      exited = true;
      this.#onExit(child, code, signal);
    };
    // `close` comes after `exit` once the pipes are drained: every line the run printed was seen.
    child.once('close', onExit);
    // A process that could not be spawned at all emits `error` and no `exit`. Kept for the child's
    // whole life: a later `error` (a failed kill) with no listener would crash `plexus dev`.
    child.on('error', (err) => {
      if (child.pid === undefined) {
        this.#ctx.logger.error({ process: this.name, err }, 'process could not be spawned');
        onExit(null, null);
      }
    });
    this.#ctx.logger.info(
      { process: this.name, childPid: child.pid, restarts: this.#restarts },
      this.#restarts === 0 ? 'process started' : 'process restarted',
    );
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.#child = null;
    const { logger, policy } = this.#ctx;
    const fields = { process: this.name, childPid: child.pid, exitCode: code, signal };
    if (this.#stopping || this.#ctx.isShuttingDown()) {
      logger.info(fields, 'process stopped');
      this.#end('stopped');
      return;
    }
    if (this.#retired) {
      logger.info(fields, 'process exited after being retired; not restarted');
      this.#end('exited');
      return;
    }
    if (!this.#everUp) {
      logger.error(fields, 'process failed to start; not restarted');
      this.#end('failed-to-start');
      return;
    }
    if (code === 0 && this.#spec.cleanExitIsFinal) {
      logger.info(fields, 'process exited cleanly (drained); not restarted');
      this.#end('exited');
      return;
    }
    const upMs = this.#ctx.now() - this.#startedAt;
    this.#fastCrashes = upMs >= policy.resetAfterMs ? 0 : this.#fastCrashes + 1;
    if (this.#fastCrashes >= policy.maxFastCrashes) {
      logger.error(
        { ...fields, fastCrashes: this.#fastCrashes, resetAfterMs: policy.resetAfterMs },
        `PROCESS ${this.name} KEEPS CRASHING: gave up after ${this.#fastCrashes} crashes in a row; it stays down`,
      );
      this.#end('gave-up');
      return;
    }
    const restartInMs = restartDelayMs(this.#fastCrashes, policy);
    logger.warn(
      { ...fields, upMs: Math.round(upMs), restartInMs },
      'process exited unexpectedly; restarting',
    );
    this.#restartTimer = setTimeout(() => {
      if (this.#done || this.#ctx.isShuttingDown()) return;
      this.#restarts += 1;
      this.#spawn();
    }, restartInMs);
  }

  #end(reason: EndReason): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
    this.#resolveEnded(reason);
  }
}

export interface SupervisorOptions {
  logger: Logger;
  policy?: RestartPolicy;
  /** Monotonic clock (ms) measuring how long each run stayed up. */
  now?: () => number;
}

/**
 * A small process manager: starts child processes, restarts one that dies unexpectedly with
 * exponential backoff, leaves it down after too many fast crashes in a row, and stops them all in
 * reverse start order (with no restarts once that began).
 */
export class Supervisor {
  #processes: SupervisedProcess[] = [];
  #shuttingDown = false;
  #ctx: SupervisorContext;

  constructor(options: SupervisorOptions) {
    this.#ctx = {
      logger: options.logger,
      policy: options.policy ?? DEFAULT_RESTART_POLICY,
      now: options.now ?? (() => performance.now()),
      isShuttingDown: () => this.#shuttingDown,
    };
  }

  /** Starts `spec` under supervision. */
  start(spec: ProcessSpec): SupervisedProcess {
    if (this.#shuttingDown) throw new Error('the supervisor is stopping');
    const proc = new SupervisedProcess(spec, this.#ctx);
    this.#processes.push(proc);
    // Ended processes leave the list, so it stays bounded however often servers come and go.
    void proc.ended.then(() => {
      this.#processes = this.#processes.filter((p) => p !== proc);
    });
    return proc;
  }

  /** Processes not yet ended, in start order. */
  get processes(): readonly SupervisedProcess[] {
    return this.#processes;
  }

  /**
   * Stops every process, last started first, one after the other — except that neighbours of one
   * `stopGroup` stop together; nothing restarts meanwhile. `graceMs` overrides each one's `killAfterMs`.
   */
  async stopAll(graceMs?: number): Promise<void> {
    this.#shuttingDown = true;
    const order = [...this.#processes].reverse();
    while (order.length > 0) {
      const first = order.shift() as SupervisedProcess;
      const batch = [first];
      while (first.stopGroup !== undefined && order[0]?.stopGroup === first.stopGroup) {
        batch.push(order.shift() as SupervisedProcess);
      }
      await Promise.all(batch.map((proc) => proc.stop(graceMs)));
    }
  }
}
