import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { PlexusClient } from '@plexus/client';
import { Fleet, type FleetMember, positionError, startStack } from '@plexus/testkit';
import { writeDocSection } from './doc-sections.ts';
import { fmt, median, percentile } from './stats.ts';

// `npm run bench:failover`: three dedicated servers, N SDK clients over several playgrounds, one
// server killed with SIGKILL once every position is checkpointed; reports each moved client's
// downtime (drop → keyframe from the new home), the fraction restored as itself, and the position
// error. Baseline, side by side: a fresh join (ticket + connect + keyframe) on the same stack.
// A benchmark, not a test: nothing here asserts a speed.

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '300' },
    'per-playground': { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
});
const CLIENTS = Number(values.clients);
const PER_PLAYGROUND = Number(values['per-playground']);
const RUNS = Number(values.runs);

interface RunResult {
  moved: number;
  downtimes: number[];
  restored: number;
  positionErrors: number[];
  baselineJoins: number[];
}

async function run(index: number): Promise<RunResult> {
  const stack = await startStack({
    servers: 3,
    env: {
      PLEXUS_DS_CAPACITY: String(CLIENTS),
      // Every client comes from 127.0.0.1: lift the per-address limits meant for the internet.
      PLEXUS_DS_MAX_SOCKETS_PER_ADDRESS: '100000',
      PLEXUS_DS_MAX_PENDING_HANDSHAKES_PER_ADDRESS: '100000',
    },
  });
  let fleet: Fleet | undefined;
  try {
    const playgrounds = Array.from(
      { length: Math.ceil(CLIENTS / PER_PLAYGROUND) },
      (_, i) => `failover-${index}-${i}`,
    );
    fleet = await Fleet.join({
      balancerUrl: stack.balancerUrl,
      playgrounds,
      perPlayground: PER_PLAYGROUND,
      concurrency: 16,
    });
    await fleet.checkpointed(stack.backendUrl, stack.partnerKey, 60_000);
    const baselineJoins = await freshJoins(stack.balancerUrl, playgrounds.slice(0, 10));

    const victimId = fleet.busiestServer();
    const moved = fleet.on(victimId);
    await stack.server(victimId)?.kill();
    await fleet.reconnected(moved, 60_000);

    const restored = moved.filter(
      (m: FleetMember) => !m.disconnected && m.pg.selfId === m.firstSelfId && positionError(m) < 0.01,
    ).length;
    const result: RunResult = {
      moved: moved.length,
      downtimes: moved.flatMap((m) => (m.reconnected[0] ? [m.reconnected[0].downtimeMs] : [])),
      restored,
      positionErrors: moved.map(positionError),
      baselineJoins,
    };
    return result;
  } finally {
    // Also after a failure: clients left behind would keep resuming against the stopped stack.
    await fleet?.leave();
    await stack.stop();
  }
}

/** Time of a fresh join (resolve + connect + WELCOME and keyframe), login excluded, per playground. */
async function freshJoins(balancerUrl: string, playgrounds: string[]): Promise<number[]> {
  const times: number[] = [];
  for (const playgroundId of playgrounds) {
    const client = new PlexusClient({ balancerUrl });
    await client.loginAsGuest({ firstName: 'Baseline' });
    const started = performance.now();
    const pg = await client.join({ playgroundId });
    times.push(performance.now() - started);
    await pg.leave();
  }
  return times;
}

const load = loadavg()[0] ?? 0;
const results: RunResult[] = [];
for (let i = 0; i < RUNS; i++) {
  const result = await run(i);
  results.push(result);
  process.stdout.write(
    `run ${i + 1}: ${result.moved} moved, downtime p50 ${fmt(median(result.downtimes), 0)} ms, ` +
      `p99 ${fmt(percentile(result.downtimes, 99), 0)} ms, max ${fmt(Math.max(...result.downtimes), 0)} ms, ` +
      `restored ${result.restored}/${result.moved}\n`,
  );
}

const per = (f: (r: RunResult) => number) => median(results.map(f));
const p50 = per((r) => median(r.downtimes));
const p99 = per((r) => percentile(r.downtimes, 99));
const max = per((r) => Math.max(...r.downtimes));
const restoredPct = per((r) => (100 * r.restored) / r.moved);
const moved = per((r) => r.moved);
const errMax = per((r) => Math.max(...r.positionErrors));
const baseline = per((r) => median(r.baselineJoins));
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;

const body = `## Failover: one of three servers killed (\`npm run bench:failover\`)

${CLIENTS} SDK clients in ${Math.ceil(CLIENTS / PER_PLAYGROUND)} playgrounds of ${PER_PLAYGROUND} on three
dedicated servers (real processes on loopback, default settings: checkpoint every 1000 ms, balancer
heartbeat 1000 ms × 3); once every avatar position is checkpointed, the busiest server is killed with
SIGKILL. Downtime is each moved client's time from the drop to the keyframe from its new home
(the SDK's \`reconnected.downtimeMs\`). Baseline, on the same stack in the same run: a fresh join
(resolve + connect + WELCOME and keyframe, login excluded). Medians over ${RUNS} runs.

| | value |
|---|---|
| clients moved off the killed server | ${fmt(moved, 0)} |
| downtime p50 | ${fmt(p50, 0)} ms |
| downtime p99 | ${fmt(p99, 0)} ms (target < 2000 ms) |
| downtime max | ${fmt(max, 0)} ms |
| restored as themselves (same avatar id, checkpointed position) | ${fmt(restoredPct, 1)} % (target 100 %) |
| largest position error | ${fmt(errMax, 3)} m |
| baseline: fresh join p50 | ${fmt(baseline, 0)} ms |
| downtime p50 / fresh join p50 | ${fmt(p50 / baseline, 1)}× |

Machine: ${machine}, Node ${process.version}; clients, servers, balancer and backend share it;
1-minute load average ${fmt(load, 1)} at the start. Command: \`npm run bench:failover\`
(\`-- --clients N --runs R\`).`;

process.stdout.write(`\n${body}\n`);
if (!values['no-write']) writeDocSection('failover', body);
