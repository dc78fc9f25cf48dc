// `npm run bench:replication`: Plexus vs Colyseus 0.18 on the same machine, Node and run.
// Flags: --n 100,200,400 --seconds 10 --workload W1,W2 --systems plexus,colyseus [--idle 1000]
//        [--idle-steady 20] [--settle 3] [--observers 16] [--bot-procs 1] [--no-write]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { writeDocSection } from '../doc-sections.ts';
import { cpuSecondsOf, hasTaskset, rssOf } from './proc.ts';
import { type IdleResult, replicationDoc } from './report.ts';
import { botLimited, holds, measureStep, type StepResult, startBots } from './run-step.ts';
import { COLYSEUS_DIR, type SystemName, startColyseus, startPlexus, type Workload } from './systems.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100,200,400,800,1200,1600,2000' },
    seconds: { type: 'string', default: '10' },
    settle: { type: 'string', default: '3' },
    workload: { type: 'string', default: 'W1,W2' },
    systems: { type: 'string', default: 'plexus,colyseus' },
    idle: { type: 'string', default: '1000' },
    'idle-steady': { type: 'string', default: '20' },
    observers: { type: 'string', default: '16' },
    'bot-procs': { type: 'string', default: '1' },
    'no-write': { type: 'boolean', default: false },
  },
});
const ns = values.n.split(',').map(Number);
const workloads = values.workload.split(',') as Workload[];
const systems = values.systems.split(',') as SystemName[];
const seconds = Number(values.seconds);
const settleS = Number(values.settle);
const idleN = Number(values.idle);
const idleSteadyS = Number(values['idle-steady']);
if (!(idleSteadyS > 0)) throw new Error('--idle-steady must be a number of seconds > 0');
const observers = Number(values.observers);
const botProcs = Number(values['bot-procs']);
if (!Number.isInteger(botProcs) || botProcs < 1) throw new Error('--bot-procs must be a whole number ≥ 1');
const cores = cpus().length;
const log = (line: string) => console.log(line);

if (systems.includes('colyseus') && !existsSync(`${COLYSEUS_DIR}node_modules/@colyseus/core`)) {
  // Kept out of the main install; a plain install fails (a peer dependency pulls uWebSockets.js from GitHub).
  log('installing the Colyseus side into packages/bench/colyseus …');
  const r = spawnSync(
    'npm',
    ['install', '--prefix', COLYSEUS_DIR, '--legacy-peer-deps', '--no-audit', '--no-fund'],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('npm install of the Colyseus side failed');
}

const started = Date.now();
const loadAtStart = loadavg()[0] ?? 0;
const results: StepResult[] = [];
for (const workload of workloads) {
  for (const system of systems) {
    log(`\n== ${workload} ${system}: N = ${ns.join(', ')}, ${seconds} s per step`);
    const sut =
      system === 'plexus' ? await startPlexus(workload, 1, cores) : await startColyseus(workload, 1, cores);
    const bots = startBots(sut, workload, observers, { server: 1, count: cores }, botProcs);
    try {
      // Stop at saturation (CPU > 90 %), at failed joins or disconnects, or when latency p99 stays
      // above 100 ms for two steps in a row (one noisy step on a shared box is not saturation).
      let misses = 0;
      for (const n of ns) {
        const r = await measureStep(sut, bots, workload, n, { seconds, settleS, observers, cores, log });
        results.push(r);
        misses = holds(r) ? 0 : misses + 1;
        if (botLimited(r)) {
          log(
            `   ${system} ${workload} at N = ${n}: the bots were the limit (try --bot-procs): stop stepping`,
          );
          break;
        }
        if (r.cpuPct > 90 || r.failed > 0 || r.disconnects > 0 || misses >= 2) {
          log(`   ${system} ${workload} does not hold N = ${n}: stop stepping`);
          break;
        }
      }
    } catch (err) {
      log(`   ${system} ${workload} failed: ${(err as Error).message}`);
    } finally {
      await bots.stop();
      await sut.stop();
    }
  }
}

// Idle: 1,000 connected Plexus clients standing still, and memory per connected client.
let idle: IdleResult | undefined;
if (idleN > 0 && systems.includes('plexus')) {
  log(`\n== idle plexus: ${idleN} clients standing still`);
  const sut = await startPlexus('idle', 1, cores);
  const bots = startBots(sut, 'idle', observers, { server: 1, count: cores }, botProcs);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const c0 = cpuSecondsOf(sut.pid);
    await new Promise((r) => setTimeout(r, 3000));
    const baseCpu = ((cpuSecondsOf(sut.pid) - c0) / 3) * 100;
    const rssBaseMiB = rssOf(sut.pid) / 2 ** 20;
    const r = await measureStep(sut, bots, 'idle', idleN, { seconds, settleS, observers, cores, log });
    // The first window still holds the joins' aftermath (their garbage, the one idle reclaim); the
    // steady window after it is what a server of idle clients costs for as long as they stay.
    const s0 = cpuSecondsOf(sut.pid);
    await new Promise((r) => setTimeout(r, idleSteadyS * 1000));
    const steadyCpuPct = ((cpuSecondsOf(sut.pid) - s0) / idleSteadyS) * 100;
    log(`   idle steady (the next ${idleSteadyS} s): cpu ${steadyCpuPct.toFixed(1)}%`);
    idle = {
      n: idleN,
      cpuPct: r.cpuPct,
      steadyCpuPct,
      steadyS: idleSteadyS,
      bytesPerClientPerSec: r.bytesPerClientPerSec,
      rssBaseMiB,
      rssMiB: r.rssMiB,
    };
    log(`   idle baseline (no clients): cpu ${baseCpu.toFixed(1)}%, rss ${rssBaseMiB.toFixed(1)} MiB`);
  } finally {
    await bots.stop();
    await sut.stop();
  }
}
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const dirty = (() => {
  try {
    return execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim().length > 0;
  } catch {
    return false;
  }
})();
const colyseusVersion = (() => {
  try {
    return JSON.parse(
      execFileSync(
        'node',
        ['-p', 'JSON.stringify(require("./node_modules/@colyseus/core/package.json").version)'],
        { cwd: COLYSEUS_DIR, encoding: 'utf8' },
      ),
    ) as string;
  } catch {
    return 'n/a';
  }
})();
const doc = replicationDoc({
  results,
  idle,
  machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  commit: `${commit}${dirty ? ' + uncommitted changes' : ''}`,
  colyseus: colyseusVersion,
  pinned: hasTaskset && cores >= 2,
  command: `npm run bench:replication -- ${process.argv.slice(2).join(' ')}`.trim(),
  minutes: (Date.now() - started) / 60_000,
  load: `${loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end`,
  seconds,
  botProcs,
});
log(`\n${doc}`);
if (!values['no-write']) {
  writeDocSection('replication', doc);
  log('\nwrote the "Replication vs Colyseus" section of docs/benchmarks.md');
}
process.exit(0);
