import { parseArgs } from 'node:util';
import { runSwarm, type SwarmProgress, type SwarmSummary } from '@plexus/bots';
import { ConfigError } from '@plexus/kit';

export const BOTS_USAGE = `Usage: plexus bots --balancer <url> --count <n> --playground <id> [options]

Joins <n> guests to one playground through the balancer (guest login, getEndpointPlaygroundId,
WebSocket handshake), lets them random-walk at 20 Hz inside a square of side --spread metres around
the playground origin, then leaves and prints a summary.

Options:
  --balancer <url>      load balancer base URL (e.g. http://127.0.0.1:8080)
  --count <n>           number of bots
  --playground <id>     playground to join
  --spread <m>          side of the square the bots walk in (default 50: a dense room)
  --duration <s>        walking time after the last join (default 10)
  --name <prefix>       guest names are <prefix><index> (default Bot<pid>-); give each process its own
  --concurrency <n>     joins in flight (default 16)
  --observers <n>       bots that run the full SDK and measure latency (default 16); the others
                        only count the bytes they receive, so one process can drive thousands
  --idle                stand still (PING every 5 s) instead of walking
  --json                print the summary as JSON on stdout (progress goes to stderr)

Summary: joined, failed, join time p50/p99 (login → welcome keyframe), update latency p50/p99,
bytes received per client per second, disconnects. Update latency: every bot stamps each MOVE it
sends (position and performance.now()) in a ring of its last 32 moves; an observer bot in the same
process that receives a position of another bot that matches one of those (within 1 cm on x and
z) records now − stamp. It is the end-to-end delay mover → server → tick → receiver, including
both processes' event-loop delays. Bytes are WebSocket message payloads received.

Several processes can split a run: give each a distinct --name and its own --count. A dedicated
server admits 64 sockets and 16 pending handshakes per address by default
(PLEXUS_DS_MAX_SOCKETS_PER_ADDRESS, PLEXUS_DS_MAX_PENDING_HANDSHAKES_PER_ADDRESS) and 200 clients
(PLEXUS_DS_CAPACITY): raise them on the servers for large local runs.`;

function positiveNumber(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new ConfigError(`--${name} is required\n\n${BOTS_USAGE}`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${name}: expected a positive number`);
  return n;
}

/** `plexus bots …`: runs a swarm and prints its summary; resolves with the exit code. */
export async function runBotsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      balancer: { type: 'string' },
      count: { type: 'string' },
      playground: { type: 'string' },
      spread: { type: 'string' },
      duration: { type: 'string' },
      name: { type: 'string' },
      concurrency: { type: 'string' },
      observers: { type: 'string' },
      idle: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(BOTS_USAGE);
    return 0;
  }
  if (!values.balancer) throw new ConfigError(`--balancer is required\n\n${BOTS_USAGE}`);
  if (!values.playground) throw new ConfigError(`--playground is required\n\n${BOTS_USAGE}`);
  const count = Math.floor(positiveNumber('count', values.count));
  const json = values.json === true;
  const out = (line: string) => (json ? console.error(line) : console.log(line));
  const summary = await runSwarm({
    balancerUrl: values.balancer,
    playgroundId: values.playground,
    count,
    spread: positiveNumber('spread', values.spread, 50),
    durationS: positiveNumber('duration', values.duration, 10),
    namePrefix: values.name ?? `Bot${process.pid}-`,
    concurrency: Math.floor(positiveNumber('concurrency', values.concurrency, 16)),
    observers: values.observers === '0' ? 0 : Math.floor(positiveNumber('observers', values.observers, 16)),
    idle: values.idle === true,
    onProgress: (p) => out(progressLine(p, count)),
  });
  if (json) console.log(JSON.stringify(summary));
  else console.log(summaryText(summary));
  return 0;
}

const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : 'n/a');

function progressLine(p: SwarmProgress, count: number): string {
  return (
    `[${p.elapsedS.toFixed(0).padStart(4)} s] joined ${p.joined}/${count}, failed ${p.failed}, ` +
    `connected ${p.connected}${p.deploying > 0 ? `, deploying ${p.deploying}` : ''}, ` +
    `disconnects ${p.disconnects}, ${Math.round(p.bytesPerClientPerSec)} B/client/s, ` +
    `latency p50 ${ms(p.latencyMs.p50)} p99 ${ms(p.latencyMs.p99)}`
  );
}

function summaryText(s: SwarmSummary): string {
  return [
    `bots: ${s.count} in playground ${s.playgroundId} (${s.observers} observers)`,
    `  joined            ${s.joined}`,
    `  failed            ${s.failed}${s.errors.length > 0 ? ` (${s.errors.join('; ')})` : ''}`,
    `  join time         p50 ${ms(s.joinMs.p50)}, p99 ${ms(s.joinMs.p99)}`,
    `  update latency    p50 ${ms(s.latencyMs.p50)}, p99 ${ms(s.latencyMs.p99)} (${s.latencyMs.samples} samples)`,
    `  bytes received    ${Math.round(s.bytesPerClientPerSec)} per client per second`,
    `  disconnects       ${s.disconnects}`,
    `  window            ${s.windowS.toFixed(1)} s, ${s.movesSent} moves sent`,
  ].join('\n');
}
