import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CheckpointClaimResult,
  type CheckpointWriteParams,
  HttpPaths,
  type PlaygroundCheckpoint,
} from '@plexus/protocol';
import {
  type ComponentProcess,
  findPostgresBin,
  PostgresNotInstalledError,
  type PostgresServer,
  startComponent,
  startPostgres,
} from '@plexus/testkit';
import { writeDocSection } from './doc-sections.ts';
import { fmt, median } from './stats.ts';

// `npm run bench:backend`: request rate of the backend's hottest partner RPCs on each storage
// engine, against a real backend process; prints the figures and rewrites its section of
// docs/benchmarks.md. A benchmark, not a test: nothing here asserts a speed.

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
});
const DURATION_MS = Number(values['duration-ms']);
const CONCURRENCY = Number(values.concurrency);
const RUNS = Number(values.runs);
const WARMUP_MS = 1_000;

const PARTNER_KEY = 'bench-backend-partner-key';
const SERVER_ID = 'bench-ds';
const CHECKPOINTS_CLAIM = `${HttpPaths.partnerRpcPrefix}checkpoints.claim`;
const CHECKPOINTS_WRITE = `${HttpPaths.partnerRpcPrefix}checkpoints.write`;

type Engine = 'sqlite' | 'postgres';
interface Reply {
  status: number;
  body: string;
}

/** One keep-alive socket per request in flight, so the client adds no queueing of its own. */
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function postJson(base: string, path: string, body: string, bearer?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function postOk<T>(base: string, path: string, body: unknown, bearer?: string): Promise<T> {
  const reply = await postJson(base, path, JSON.stringify(body), bearer);
  if (reply.status !== 200) throw new Error(`${path} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
  return (JSON.parse(reply.body) as { data: T }).data;
}

/** A mid-sized playground: 50 entities and 10 avatars with a few props each. */
function checkpointState(): PlaygroundCheckpoint {
  const entities = Array.from({ length: 50 }, (_, i) => ({
    id: i + 1,
    kind: 'object',
    position: { x: i * 1.5, y: 0.5, z: -i * 0.75 },
    rotation: { x: 0, y: 0.38268, z: 0, w: 0.92388 },
    props: { color: `#${(i * 4099).toString(16).padStart(6, '0').slice(0, 6)}`, mass: i % 7 },
    ownerUserId: i % 5 === 0 ? `user-${i}` : null,
  }));
  const avatars = Array.from({ length: 10 }, (_, i) => ({
    userId: `user-${i}`,
    entityId: 100 + i,
    position: { x: i, y: 0, z: i },
    rotation: { x: 0, y: 0, z: 0, w: 1 },
    props: { name: `Player ${i}`, emote: '' },
  }));
  return { type: 'open-world', nextEntityId: 200, entities, avatars };
}

interface RunResult {
  rps: number;
  p50Ms: number;
  errors: number;
}

/**
 * `CONCURRENCY` loops, each sending its next request when the previous one is answered, for
 * `durationMs`. Requests still in flight at the end finish but do not count.
 */
async function drive(durationMs: number, send: (worker: number) => Promise<boolean>): Promise<RunResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + durationMs;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const ok = await send(worker);
        const t1 = performance.now();
        if (t1 > end) break;
        if (ok) latencies.push(t1 - t0);
        else errors++;
      }
    }),
  );
  const elapsedS = Math.min(performance.now(), end) - start;
  return { rps: latencies.length / (elapsedS / 1000), p50Ms: median(latencies), errors };
}

interface Scenario {
  /** Prepares one run (fresh claims); returns the request of a worker. */
  prepare(): Promise<(worker: number) => Promise<boolean>>;
}

async function measureScenario(scenario: Scenario): Promise<RunResult & { runs: number[] }> {
  await drive(WARMUP_MS, await scenario.prepare());
  const results: RunResult[] = [];
  for (let run = 0; run < RUNS; run++) results.push(await drive(DURATION_MS, await scenario.prepare()));
  const rps = results.map((r) => r.rps);
  return {
    rps: median(rps),
    p50Ms: median(results.map((r) => r.p50Ms)),
    errors: results.reduce((n, r) => n + r.errors, 0),
    runs: rps,
  };
}

function authCheck(url: string, sessionId: string): Scenario {
  const body = JSON.stringify({ sessionId });
  return {
    prepare: async () => async () =>
      (await postJson(url, HttpPaths.authCheck, body, PARTNER_KEY)).status === 200,
  };
}

function checkpointWrites(url: string, engine: Engine): Scenario {
  const state = checkpointState();
  let round = 0;
  return {
    // Each worker writes its own playground (one writer per playground, as a DS does), claimed
    // afresh for every run; versions increase per write.
    async prepare() {
      round++;
      const writers = await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, worker) => {
          const playgroundId = `bench-${engine}-${round}-${worker}`;
          const claim = await postOk<CheckpointClaimResult>(
            url,
            CHECKPOINTS_CLAIM,
            { serverId: SERVER_ID, playgroundId },
            PARTNER_KEY,
          );
          return { playgroundId, epoch: claim.epoch, version: claim.checkpoint?.version ?? 0 };
        }),
      );
      return async (worker: number) => {
        const w = writers[worker];
        if (!w) return false;
        w.version++;
        const params: CheckpointWriteParams = {
          serverId: SERVER_ID,
          playgroundId: w.playgroundId,
          epoch: w.epoch,
          version: w.version,
          state,
        };
        return (await postJson(url, CHECKPOINTS_WRITE, JSON.stringify(params), PARTNER_KEY)).status === 200;
      };
    },
  };
}

interface EngineResult {
  engine: Engine;
  authCheck: RunResult & { runs: number[] };
  checkpointWrite: (RunResult & { runs: number[] }) | string;
}

async function measureEngine(engine: Engine, env: Record<string, string>): Promise<EngineResult> {
  let backend: ComponentProcess | undefined;
  try {
    backend = await startComponent(`backend-${engine}`, 'backend', {
      ...env,
      PLEXUS_BACKEND_PORT: '0',
      PLEXUS_PARTNER_KEY: PARTNER_KEY,
      NODE_ENV: 'test',
    });
    const url = backend.url;
    const guest = await postOk<{ sessionId: string }>(url, `${HttpPaths.rpcPrefix}auth.guest`, {
      firstName: 'Bench',
    });
    console.log(`${engine}: authCheck.getUserBySessionId…`);
    const auth = await measureScenario(authCheck(url, guest.sessionId));
    console.log(`${engine}: checkpoints.write…`);
    let checkpointWrite: EngineResult['checkpointWrite'];
    try {
      checkpointWrite = await measureScenario(checkpointWrites(url, engine));
    } catch (err) {
      // The checkpoint routes may be missing from an older backend: report, keep the other figure.
      checkpointWrite = `not measured: ${(err as Error).message.split('\n')[0]}`;
    }
    return { engine, authCheck: auth, checkpointWrite };
  } finally {
    await backend?.stop();
  }
}

const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`;
const pgBin = findPostgresBin();
const pgVersion = process.env.PLEXUS_TEST_DATABASE_URL
  ? 'the server at PLEXUS_TEST_DATABASE_URL'
  : pgBin
    ? `PostgreSQL ${basename(dirname(pgBin))} (throwaway local cluster, fsync on)`
    : 'PostgreSQL not installed';

const results: EngineResult[] = [];
const notes: string[] = [];
const started = Date.now();
// Other work on the machine moves these figures a lot: record how busy it was.
const loadBefore = loadavg()[0] ?? 0;

const sqliteDir = mkdtempSync(join(tmpdir(), 'plexus-bench-backend-'));
try {
  results.push(await measureEngine('sqlite', { PLEXUS_DATA_DIR: sqliteDir }));
} finally {
  rmSync(sqliteDir, { recursive: true, force: true });
}

let postgres: PostgresServer | undefined;
try {
  postgres = await startPostgres();
  const databaseUrl = await postgres.createDatabase();
  results.push(await measureEngine('postgres', { PLEXUS_DATABASE_URL: databaseUrl }));
} catch (err) {
  if (!(err instanceof PostgresNotInstalledError)) throw err;
  notes.push(`PostgreSQL: not measured (${err.message})`);
} finally {
  await postgres?.stop();
  agent.destroy();
}

const cell = (r: RunResult | string, digits = 0) => (typeof r === 'string' ? 'n/a' : fmt(r.rps, digits));
const p50 = (r: RunResult | string) => (typeof r === 'string' ? 'n/a' : fmt(r.p50Ms, 1));
const runsOf = (r: (RunResult & { runs: number[] }) | string) =>
  typeof r === 'string'
    ? r
    : `${r.runs.map((x) => fmt(x, 0)).join(' / ')}${r.errors ? ` (${r.errors} errors)` : ''}`;
const table = [
  '| engine | authCheck req/s | authCheck p50 ms | checkpoints.write req/s | checkpoints.write p50 ms |',
  '|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.engine} | ${cell(r.authCheck)} | ${p50(r.authCheck)} | ${cell(r.checkpointWrite)} | ${p50(r.checkpointWrite)} |`,
  ),
].join('\n');
const runs = results
  .map(
    (r) => `- ${r.engine}: authCheck ${runsOf(r.authCheck)}; checkpoints.write ${runsOf(r.checkpointWrite)}`,
  )
  .join('\n');
const stateBytes = Buffer.byteLength(JSON.stringify(checkpointState()));

console.log(`\n${table}\n\nruns (req/s):\n${runs}${notes.length ? `\n${notes.join('\n')}` : ''}`);

const doc = `## Backend request rate by storage engine

Figures from \`npm run bench:backend\` (packages/bench/src/backend.ts): one backend process
(\`plexus backend\`) per engine on loopback, driven by ${CONCURRENCY} requests in flight (each client
loop sends its next request when the previous one is answered) for ${DURATION_MS / 1000} s after a
${WARMUP_MS / 1000} s warm-up; each figure is the median of ${RUNS} runs. Both engines commit durably
before answering: SQLite in WAL mode with \`synchronous=FULL\`, PostgreSQL with \`fsync\` and
\`synchronous_commit\` on (pool of 10 connections).

- \`POST ${HttpPaths.authCheck}\`: partner key check, then the
  session (by SHA-256) and its user: two reads.
- \`POST ${CHECKPOINTS_WRITE}\`: a fenced checkpoint write (one conditional
  UPDATE on epoch, holder and version) of a ${stateBytes}-byte state (50 entities, 10 avatars); each
  client loop writes its own playground, claimed with \`checkpoints.claim\` before every run.

- date: ${new Date(started).toISOString()}
- machine: ${machine}; the client and the backend (and PostgreSQL) share it; 1-minute load
  average ${fmt(loadBefore, 1)} before and ${fmt(loadavg()[0] ?? 0, 1)} after the run
- Node ${process.version}, commit ${commit}; ${pgVersion}
- command: \`npm run bench:backend\`

${table}

Why the engines differ: SQLite answers reads inside the backend process, while each PostgreSQL
read is a round trip over loopback to other processes competing for the same two cores; SQLite
commits one write transaction at a time with an fsync each, while PostgreSQL flushes the commits of
concurrent transactions together (group commit).

Every run (req/s):

${runs}
${notes.length ? `\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;

if (!values['no-write']) {
  writeDocSection('backend', doc);
  console.log('\nwrote the "Backend request rate by storage engine" section of docs/benchmarks.md');
}
