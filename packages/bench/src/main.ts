import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { codecTable, measureCodec } from './codec.ts';
import { writeDocSection } from './doc-sections.ts';
import { type JoinTimeResult, joinTimeTable, measureJoinTime } from './join-time.ts';

// `npm run bench`: prints the figures and regenerates its section of docs/benchmarks.md (as pino
// does); other benchmark scripts own the other sections.
//   --joins N      sequential joins measured (default 50)
//   --only join    only the join-time part (or `codec`); prints, never writes the doc section
//   --no-write     print only
const { values } = parseArgs({
  options: {
    joins: { type: 'string', default: '50' },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const only = values.only;
if (only !== undefined && only !== 'join' && only !== 'codec') {
  console.error(`--only takes "join" or "codec", not "${only}"`);
  process.exit(2);
}

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;
const header = [
  `- date: ${new Date().toISOString()}`,
  `- machine: ${machine}`,
  `- Node ${process.version}, commit ${commit}`,
  '- command: `npm run bench`',
].join('\n');

let codec: ReturnType<typeof measureCodec>[] | undefined;
if (only !== 'join') {
  console.log('codec: encoding one tick of avatar updates…');
  codec = [10, 100, 1000].map((n) => measureCodec(n));
  console.log(codecTable(codec));
}
let join: JoinTimeResult | undefined;
if (only !== 'codec') {
  const joins = Number(values.joins);
  console.log(`\njoin time: ${joins} sequential guest joins over real processes…`);
  join = await measureJoinTime(joins);
  console.log(joinTimeTable(join));
}
// A partial run leaves the doc alone: its section holds both parts, measured together.
if (codec && join && !values['no-write']) writeMainSection(codec, join);

function writeMainSection(codec: ReturnType<typeof measureCodec>[], join: JoinTimeResult): void {
  const doc = `## Join time, codec

Figures from \`npm run bench\`. Every figure is a median over rounds, and each is set against a
baseline measured in the same run, alternating with it, so the ratios mean more than the absolute
numbers.

${header}

### Join time (login → welcome snapshot)

From the client's \`auth.guest\` request to the moment \`client.join()\` resolves, i.e. the SDK holds
WELCOME and the full keyframe: guest login through the balancer's RPC forwarding to the backend,
\`getEndpointPlaygroundId\` (balancer → backend matchmaking → placement → signed ticket; no
authCheck, the balancer cached the session of the login it forwarded), WebSocket
open, HELLO, ticket verification, admission (with the user's player record, which the balancer
sent the server beside the ticket), and WELCOME with the keyframe, sent at admission. ${join.joins} sequential joins (after 5 warm-up joins) against backend + balancer + 2
dedicated servers as separate processes on loopback (SQLite on local disk, \`synchronous=FULL\`).
Baseline: one HTTP round trip to the balancer's \`/healthz\`, measured before every join.

${joinTimeTable(join)}

WELCOME and the keyframe leave at admission, without waiting for a tick (docs/protocol.md §5.1);
the second phase is HTTP, SQLite reads and writes, and Ed25519 signing and verification.

### Codec: one tick's delta of moving avatars

Position + rotation updates for N entities encoded with the wire codec (docs/protocol.md §4,
STATE v2: millimetre positions as varints relative to their grid cell, smallest-three rotations in
32 bits; avatars on a 40 m circle encoded as one chunk by \`encodeState\`, while the server's
16 m cell chunks keep offsets a byte shorter) versus \`JSON.stringify\` of the same frame (the baseline), alternating
rounds of 200 ms, median of 15.

${codecTable(codec)}
`;

  writeDocSection('main', doc);
  console.log('\nwrote the "Join time, codec" section of docs/benchmarks.md');
}
