import { fileURLToPath } from 'node:url';
import { LatencyHistogram } from '@plexus/bots';
import { BotProcess } from './bot-client.ts';
import { BotGroup } from './bot-group.ts';
import { cpuSecondsOf, rssOf } from './proc.ts';
import { COLYSEUS_DIR, type SystemUnderTest, type Workload } from './systems.ts';

const PLEXUS_BOTS = fileURLToPath(new URL('./plexus-bots.ts', import.meta.url));

/** Figures of one measured step (N clients of one system in one workload). */
export interface StepResult {
  system: string;
  workload: Workload;
  n: number;
  joined: number;
  failed: number;
  disconnects: number;
  /** Server CPU over the window, % of one core. */
  cpuPct: number;
  rssMiB: number;
  bytesPerClientPerSec: number;
  latencyP50: number;
  latencyP99: number;
  latencySamples: number;
  tickP99: number;
  /** Bot processes' CPU over the window, % of one core, summed over them. */
  botCpuPct: number;
  /** The busiest bot process's CPU, % of one core. */
  botCpuMaxPct: number;
  /** Bot processes driving the step. */
  botProcs: number;
  /** Moves the bots sent per connected client per second (the workload asks for {@link MOVE_HZ}). */
  movesPerClientPerSec: number;
  joinP50: number;
  errors: string[];
}

export interface StepOptions {
  seconds: number;
  settleS: number;
  observers: number;
  cores: number;
  log: (line: string) => void;
}

/** `procs` bot processes for `sut` (off the server's core), started once per system and workload. */
export function startBots(
  sut: SystemUnderTest,
  workload: Workload,
  observers: number,
  cores: { server: number; count: number },
  procs = 1,
): BotGroup {
  const env = {
    BENCH_TARGET: sut.target,
    BENCH_PLAYGROUND: sut.room,
    BENCH_SPREAD: workload === 'W2' ? '1000' : '50',
    BENCH_IDLE: workload === 'idle' ? '1' : '0',
  };
  return new BotGroup(
    procs,
    (own) =>
      sut.name === 'plexus'
        ? new BotProcess(PLEXUS_BOTS, { ...env, ...own })
        : new BotProcess(`${COLYSEUS_DIR}bots.ts`, { ...env, ...own }, COLYSEUS_DIR),
    observers,
    cores,
  );
}

/**
 * Brings the bot process to `n` clients, waits until they all reached their starting points and
 * a settling time passed, then measures one window of `seconds`.
 */
export async function measureStep(
  sut: SystemUnderTest,
  bots: BotGroup,
  workload: Workload,
  n: number,
  o: StepOptions,
): Promise<StepResult> {
  const status0 = await bots.status();
  if (n > status0.joined + status0.failed) await bots.join(n - status0.joined - status0.failed);
  const deployDeadline = Date.now() + 60_000;
  for (;;) {
    const s = await bots.status();
    if (s.deploying === 0 || Date.now() > deployDeadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await new Promise((r) => setTimeout(r, o.settleS * 1000));
  await sut.tickStart();
  await bots.windowStart();
  const cpu0 = cpuSecondsOf(sut.pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  const cpu1 = cpuSecondsOf(sut.pid);
  const elapsedS = (performance.now() - t0) / 1000;
  const w = await bots.window();
  const tickP99 = await sut.tickP99();
  const status = await bots.status();
  const hist = LatencyHistogram.fromSparse(w.latency);
  const result: StepResult = {
    system: sut.name,
    workload,
    n,
    joined: status.joined,
    failed: status.failed,
    disconnects: status.disconnects,
    cpuPct: ((cpu1 - cpu0) / elapsedS) * 100,
    rssMiB: rssOf(sut.pid) / 2 ** 20,
    bytesPerClientPerSec: w.clients > 0 ? w.bytesReceived / w.clients / w.seconds : 0,
    latencyP50: hist.percentile(50),
    latencyP99: hist.percentile(99),
    latencySamples: hist.count,
    tickP99,
    botCpuPct: (w.cpuS / w.seconds) * 100,
    botCpuMaxPct: (w.cpuMaxS / w.seconds) * 100,
    botProcs: bots.procs.length,
    movesPerClientPerSec: w.clients > 0 ? w.movesSent / w.clients / w.seconds : 0,
    joinP50: status.joinMs.p50,
    errors: status.errors,
  };
  o.log(stepLine(result));
  return result;
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export function stepLine(r: StepResult): string {
  return (
    `${r.system.padEnd(8)} ${r.workload.padEnd(4)} N=${String(r.n).padStart(4)} joined ${r.joined} failed ${r.failed} ` +
    `disc ${r.disconnects} | cpu ${f(r.cpuPct)}% rss ${f(r.rssMiB)} MiB | ${f(r.bytesPerClientPerSec, 0)} B/client/s | ` +
    `latency p50 ${f(r.latencyP50)} p99 ${f(r.latencyP99)} ms (${r.latencySamples}) | tick p99 ${f(r.tickP99, 2)} ms | ` +
    `bots cpu ${f(r.botCpuPct)}% (${r.botProcs} proc, busiest ${f(r.botCpuMaxPct)}%), ${f(r.movesPerClientPerSec)} moves/client/s` +
    `${botLimited(r) ? ' BOT-LIMITED' : ''}`
  );
}

/** A bot process at this share of a core or more is saturated: its own delays enter the figures. */
const BOT_SATURATED_PCT = 90;
/** Moves per second of every bot, Plexus and Colyseus alike. */
const MOVE_HZ = 20;
/** Bots that sent less than this share of {@link MOVE_HZ} fell behind their own loop. */
const BEHIND_SHARE = 0.9;

/**
 * The bots, not the server, were the limit: the step does not hold while the server was not
 * saturated and a bot process was, or the bots fell behind their moves — which a bot process
 * sharing its core does well below 90 % of a core (W2 N = 2,000 at load average 5 on 2 cores:
 * 43 % of a core, half the moves). More bot processes (`--bot-procs`) would measure the server.
 */
export function botLimited(r: StepResult): boolean {
  const behind = r.workload !== 'idle' && r.movesPerClientPerSec < BEHIND_SHARE * MOVE_HZ;
  return !holds(r) && (r.botCpuMaxPct >= BOT_SATURATED_PCT || behind) && r.cpuPct <= 90;
}

/** Within the bounds the benchmark asks a server to hold. */
export function holds(r: StepResult): boolean {
  return r.failed === 0 && r.disconnects === 0 && r.cpuPct <= 90 && r.latencyP99 <= 100;
}
