import { botLimited, holds, type StepResult } from './run-step.ts';

/** The idle step: N clients standing still, and the server's memory with none and with them. */
export interface IdleResult {
  n: number;
  /** Over the step's window, which begins once the joins settled. */
  cpuPct: number;
  /** Over the `steadyS` seconds right after that window. */
  steadyCpuPct: number;
  steadyS: number;
  bytesPerClientPerSec: number;
  rssBaseMiB: number;
  rssMiB: number;
}

export interface ReportInput {
  results: StepResult[];
  idle: IdleResult | undefined;
  machine: string;
  node: string;
  commit: string;
  colyseus: string;
  pinned: boolean;
  command: string;
  minutes: number;
  /** 1-minute load average of the machine (other work shares it). */
  load: string;
  seconds: number;
  /** Bot processes per system and workload (`--bot-procs`). */
  botProcs: number;
}

const f = (n: number | undefined, d = 1) =>
  n === Number.POSITIVE_INFINITY ? '> 100' : n !== undefined && Number.isFinite(n) ? n.toFixed(d) : 'n/a';
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0
    ? `${(a / b).toFixed(2)}`
    : 'n/a';

function stepTable(rows: StepResult[]): string {
  return [
    '| system | N | joined | server CPU % | RSS MiB | bytes/client/s | latency p50 ms | latency p99 ms | tick p99 ms | bot CPU % (busiest process) | holds |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.system} | ${r.n} | ${r.joined}${r.failed ? ` (${r.failed} failed)` : ''}${r.disconnects ? `, ${r.disconnects} disc.` : ''} | ${f(r.cpuPct)} | ${f(r.rssMiB)} | ${f(r.bytesPerClientPerSec, 0)} | ${f(r.latencyP50)} | ${f(r.latencyP99)} | ${f(r.tickP99, 2)} | ${botCpu(r)} | ${holds(r) ? 'yes' : botLimited(r) ? 'no: bots were the limit' : 'no'} |`,
    ),
  ].join('\n');
}

/** Total bot CPU, and the busiest process's when there are several. */
function botCpu(r: StepResult): string {
  return r.botProcs > 1 ? `${f(r.botCpuPct)} (${f(r.botCpuMaxPct)})` : f(r.botCpuPct);
}

/** Largest N with CPU ≤ 90 % and p99 ≤ 100 ms (and every bot joined, none disconnected). */
function maxHeld(rows: StepResult[]): string {
  let best: StepResult | undefined;
  for (const r of rows) if (holds(r) && (!best || r.n > best.n)) best = r;
  if (!best) return 'none of the steps';
  const stepped = rows.at(-1);
  const bound = stepped === best ? ' (the largest N run: not saturated)' : '';
  return `${best.n}${bound}`;
}

/** RSS slope (least squares) of a system's steps, KiB per client. */
function rssSlopeKiB(rows: StepResult[]): number {
  if (rows.length < 2) return Number.NaN;
  const mx = rows.reduce((a, r) => a + r.n, 0) / rows.length;
  const my = rows.reduce((a, r) => a + r.rssMiB, 0) / rows.length;
  let num = 0;
  let den = 0;
  for (const r of rows) {
    num += (r.n - mx) * (r.rssMiB - my);
    den += (r.n - mx) ** 2;
  }
  return den > 0 ? (num / den) * 1024 : Number.NaN;
}

export function replicationDoc(i: ReportInput): string {
  const out: string[] = [];
  out.push(`## Replication vs Colyseus

\`npm run bench:replication\` (packages/bench/src/replication) runs the same workloads against one
Plexus dedicated server and one Colyseus ${i.colyseus} server, in the same run on the same machine
and Node. ${i.pinned ? 'Each server process is pinned to core 1 (`taskset`); the backend and balancer to core 0; bot processes to the other cores in turn (core 0 on a 2-core machine).' : 'Processes are not pinned (no taskset or a single core).'}
Per step: bots join until N are connected, walk to their starting points, settle, then one
${i.seconds}-second window is measured: server CPU from \`/proc/<pid>/stat\` (one core = 100 %), RSS
from \`/proc/<pid>/status\`, bytes received per client per second (WebSocket message payloads,
counted by every bot), update latency p50/p99 and tick p99 (Plexus: the DS tick-duration histogram
of /metrics, bucket upper bound; Colyseus: \`broadcastPatch()\` timed in the room, plus the view
update in W2). A system *holds* N when server CPU ≤ 90 % of a core, latency p99 ≤ 100 ms, every bot
joined and none was disconnected; stepping stops at saturation (CPU > 90 %), at a failed join or a
disconnect, when the bots were the limit, or after two steps in a row that do not hold. A step
*the bots were the limit* of does not hold while the server used ≤ 90 % of a core and a bot
process used ≥ 90 % or the bots sent fewer than 18 of their 20 moves per client and second (a bot
process sharing its core falls behind well below 90 %): its figures say more about the bots than
the server. A tick p99 of "> 100" is beyond the
largest bucket (100 ms) of the Plexus histogram.

- W1 dense: N clients in one playground / room, walking at 1.5–3 m/s inside a 50 m square, all
  within each other's interest; 20 moves/s each; tick / patch rate 20 Hz. Colyseus: a MapSchema of
  players {x, y, z, rotY} (\`t.number()\`), a "move" message, default settings
  (\`Encoder.BUFFER_SIZE\` raised to 4 MiB, as its overflow warning says).
- W2 large world: N clients over 1 km × 1 km, interest radius 100 m. Colyseus: \`players\` tagged
  \`.view()\`, one \`StateView\` per client, and a 100 m grid that adds/removes players to each
  client's view every 50 ms (radius 100 m, removal beyond 110 m).

Bots: ${i.botProcs === 1 ? 'one bot process' : `${i.botProcs} bot processes (\`--bot-procs\`; clients and observers dealt out evenly; the bot CPU column is their sum, the busiest process in brackets)`} per system and workload (@plexus/bots for Plexus, the Colyseus SDK for
Colyseus), the same walk and the same measurement: 16 *observer* bots decode everything through
the SDK and measure latency; the others join the same way and send the same moves but only count
the bytes they receive. Update latency is the delay from a bot's MOVE send (stamped with
\`performance.now()\`, position kept in a ring of its last 32 moves) to an observer's receipt of that
position (matched within 1 cm), both in the same bot process.

- date: ${new Date().toISOString()}
- machine: ${i.machine}
- Node ${i.node}, commit ${i.commit}, Colyseus ${i.colyseus}
- command: \`${i.command}\` (${f(i.minutes)} min)
- machine load (1-min load average; the bench's own processes count in it): ${i.load}
`);
  for (const w of ['W1', 'W2'] as const) {
    const rows = i.results.filter((r) => r.workload === w);
    if (rows.length === 0) continue;
    const px = rows.filter((r) => r.system === 'plexus');
    const cy = rows.filter((r) => r.system === 'colyseus');
    out.push(
      `### ${w === 'W1' ? 'W1 dense (one room, everyone in view)' : 'W2 large world (1 km², interest 100 m)'}\n`,
    );
    out.push(stepTable(rows));
    out.push('');
    out.push(
      `Largest N held: Plexus ${px.length ? maxHeld(px) : 'n/a'}; Colyseus ${cy.length ? maxHeld(cy) : 'n/a'}.\n`,
    );
    const common = px.filter((p) => cy.some((c) => c.n === p.n));
    if (common.length > 0) {
      out.push(
        '| N | bytes/client/s Plexus ÷ Colyseus | server CPU Plexus ÷ Colyseus | latency p99 Plexus ÷ Colyseus |',
      );
      out.push('|---|---|---|---|');
      for (const p of common) {
        const c = cy.find((x) => x.n === p.n);
        out.push(
          `| ${p.n} | ${ratio(p.bytesPerClientPerSec, c?.bytesPerClientPerSec)} | ${ratio(p.cpuPct, c?.cpuPct)} | ${ratio(p.latencyP99, c?.latencyP99)} |`,
        );
      }
      out.push('');
    }
  }
  const memoryRows = i.results.filter((r) => r.system === 'plexus' && r.workload === 'W2');
  if (i.idle) {
    const perClientKiB = ((i.idle.rssMiB - i.idle.rssBaseMiB) * 1024) / i.idle.n;
    out.push(`### Idle and memory (Plexus)

- ${i.idle.n} connected clients standing still: server CPU ${f(i.idle.steadyCpuPct)} % of a core
  (steady: the ${f(i.idle.steadyS, 0)} s after the window; ${f(i.idle.cpuPct)} % over the window, which
  begins once the joins settled and still holds their aftermath),
  ${f(i.idle.bytesPerClientPerSec, 0)} bytes per client per second.
- Memory: RSS ${f(i.idle.rssBaseMiB)} MiB with no client, ${f(i.idle.rssMiB)} MiB with ${i.idle.n} idle
  clients: ${f(perClientKiB)} KiB per connected client; RSS slope over the W2 steps:
  ${f(rssSlopeKiB(memoryRows))} KiB per client.
`);
  }
  const botNotes = ['plexus', 'colyseus'].flatMap((s) =>
    (['W1', 'W2'] as const).flatMap((w) => {
      const rows = i.results.filter((r) => r.system === s && r.workload === w);
      const last = rows.at(-1);
      return last ? [`${s} ${w} at N = ${last.n}: ${botCpu(last)} %`] : [];
    }),
  );
  if (botNotes.length > 0)
    out.push(`Bot process CPU (one core = 100 %) at the largest N of each run: ${botNotes.join('; ')}.`);
  return out.join('\n');
}
