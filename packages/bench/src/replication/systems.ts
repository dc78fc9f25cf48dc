import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { percentile } from '@plexus/bots';
import { type Stack, startStack } from '@plexus/testkit';
import { pin } from './proc.ts';

export type SystemName = 'plexus' | 'colyseus';
export type Workload = 'W1' | 'W2' | 'idle';

/** One server under test, started fresh for a workload. */
export interface SystemUnderTest {
  name: SystemName;
  /** Pid of the process that does the replication (the one measured and pinned). */
  pid: number;
  /** What bot processes connect to (the balancer URL, or the Colyseus HTTP endpoint). */
  target: string;
  /** The playground id (Plexus) or room name (Colyseus) of the workload. */
  room: string;
  /** Starts a tick-duration window. */
  tickStart(): Promise<void>;
  /** p99 tick duration since tickStart, ms (NaN when unknown). */
  tickP99(): Promise<number>;
  stop(): Promise<void>;
}

export const COLYSEUS_DIR = fileURLToPath(new URL('../../colyseus/', import.meta.url));

/** Backend + balancer + ONE dedicated server (pinned to `core`), sized for thousands of local bots. */
export async function startPlexus(workload: Workload, core: number, cores: number): Promise<SystemUnderTest> {
  const stack: Stack = await startStack({
    servers: 1,
    env: {
      PLEXUS_DS_CAPACITY: '5000',
      PLEXUS_DS_MAX_SOCKETS_PER_ADDRESS: '100000',
      PLEXUS_DS_MAX_PENDING_HANDSHAKES_PER_ADDRESS: '100000',
      // Every bot joins from 127.0.0.1.
      PLEXUS_LB_JOIN_BURST_PER_ADDRESS: '100000',
      PLEXUS_LB_JOIN_RATE_PER_ADDRESS_PER_SEC: '100000',
      PLEXUS_LOG_LEVEL: 'warn',
    },
  });
  const ds = stack.servers[0];
  if (!ds?.proc.pid) throw new Error('no dedicated server');
  for (const p of [stack.backend, stack.balancer]) if (p.proc.pid) pin(p.proc.pid, 0, cores);
  pin(ds.proc.pid, core, cores);
  const metricsUrl = `${ds.url}/metrics`;
  let before = new Map<number, number>();
  return {
    name: 'plexus',
    pid: ds.proc.pid,
    target: stack.balancerUrl,
    room: `bench-${workload.toLowerCase()}`,
    tickStart: async () => {
      before = await tickBuckets(metricsUrl);
    },
    tickP99: async () => {
      const after = await tickBuckets(metricsUrl);
      const les = [...after.keys()].sort((a, b) => a - b);
      const total = (after.get(Number.POSITIVE_INFINITY) ?? 0) - (before.get(Number.POSITIVE_INFINITY) ?? 0);
      if (total <= 0) return Number.NaN;
      for (const le of les) {
        if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= 0.99 * total) return le * 1000;
      }
      return Number.NaN;
    },
    stop: () => stack.stop(),
  };
}

/** Cumulative bucket counts of the DS tick-duration histogram, by upper bound (s). */
async function tickBuckets(metricsUrl: string): Promise<Map<number, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out = new Map<number, number>();
  for (const m of text.matchAll(
    /^plexus_ds_tick_duration_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm,
  )) {
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
    out.set(le, (out.get(le) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The Colyseus 0.18 server of packages/bench/colyseus (pinned to `core`). */
export async function startColyseus(
  workload: Workload,
  core: number,
  cores: number,
): Promise<SystemUnderTest> {
  const port = await freePort();
  const proc: ChildProcess = fork(`${COLYSEUS_DIR}server.ts`, [], {
    cwd: COLYSEUS_DIR,
    env: { ...process.env, COLYSEUS_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('Colyseus did not start within 30 s')), 30_000);
    proc.once('exit', (code) => reject(new Error(`Colyseus exited with ${code}`)));
    proc.on('message', (m: { type: string }) => {
      if (m.type === 'listening') {
        clearTimeout(t);
        resolve();
      }
    });
  });
  pin(proc.pid as number, core, cores);
  const ticks = () =>
    new Promise<number[]>((resolve) => {
      const onMessage = (m: { type: string; ticks?: number[] }) => {
        if (m.type !== 'ticks') return;
        proc.off('message', onMessage);
        resolve(m.ticks ?? []);
      };
      proc.on('message', onMessage);
      proc.send({ type: 'ticks' });
    });
  return {
    name: 'colyseus',
    pid: proc.pid as number,
    target: `http://127.0.0.1:${port}`,
    room: workload === 'W2' ? 'w2' : 'w1',
    tickStart: async () => {
      await ticks();
    },
    tickP99: async () => percentile(await ticks(), 99),
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
