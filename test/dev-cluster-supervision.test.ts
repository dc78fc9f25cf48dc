import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PlexusClient } from '@plexus/client';
import { waitFor } from '@plexus/testkit';

const CLI = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url));

interface ServerView {
  serverId: string;
  players: number;
  draining: boolean;
  lastReportAt: string;
}

/**
 * `plexus dev` as a real child process on ephemeral ports, one dedicated server of 2 seats, and
 * thresholds so tight that one player is "load": free seats must stay ≥ 2 and ≤ 3.
 */
let dev: ChildProcess;
let dataDir: string;
let balancerUrl = '';
const lines: string[] = [];
const childPids = new Set<number>();

async function servers(): Promise<ServerView[]> {
  const res = await fetch(`${balancerUrl}/lb/api/v0/servers`);
  return ((await res.json()) as { data: { servers: ServerView[] } }).data.servers;
}

/** The first `[dev]` line matching `pattern` (from `from` on), within the timeout. */
async function devLine(
  pattern: RegExp,
  what: string,
  timeoutMs = 15_000,
  from = 0,
): Promise<RegExpExecArray> {
  let found: RegExpExecArray | null = null;
  await waitFor(
    () => {
      for (const line of lines.slice(from)) {
        found = line.startsWith('[dev] ') ? pattern.exec(line) : null;
        if (found) return true;
      }
      return false;
    },
    { timeoutMs, what },
  );
  return found as unknown as RegExpExecArray;
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'plexus-dev-test-'));
  dev = spawn(process.execPath, [CLI, 'dev'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      PLEXUS_LOG_LEVEL: 'info',
      PLEXUS_DATA_DIR: dataDir,
      PLEXUS_BACKEND_PORT: '0',
      PLEXUS_LB_PORT: '0',
      PLEXUS_DS_PORT_BASE: '0',
      PLEXUS_PARTNER_KEY: 'dev-test-partner-key',
      PLEXUS_CLUSTER_SECRET: 'dev-test-cluster-secret',
      PLEXUS_OPERATOR_KEY: 'dev-test-operator-key',
      PLEXUS_DS_COUNT: '1',
      PLEXUS_DS_MAX: '2',
      PLEXUS_DS_CAPACITY: '2',
      PLEXUS_DS_DRAIN_TIMEOUT_MS: '1000',
      PLEXUS_AUTOSCALE: 'true',
      PLEXUS_AUTOSCALE_MIN_FREE_SEATS: '2',
      PLEXUS_AUTOSCALE_MAX_FREE_SEATS: '3',
      PLEXUS_AUTOSCALE_INTERVAL_MS: '200',
      PLEXUS_AUTOSCALE_COOLDOWN_MS: '1000',
      PLEXUS_RESTART_MIN_MS: '100',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [dev.stdout, dev.stderr]) {
    createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
      lines.push(line);
      const started = /process (?:started|restarted) process=\S+ childPid=(\d+)/.exec(line);
      if (started) childPids.add(Number(started[1]));
    });
  }
  const running = await devLineAny(/demo \+ load balancer\s+(http:\/\/\S+)\//, 'the cluster running', 30_000);
  balancerUrl = running[1] as string;
});

/** Like devLine, for the cluster's own summary lines (not prefixed). */
async function devLineAny(pattern: RegExp, what: string, timeoutMs: number): Promise<RegExpExecArray> {
  let found: RegExpExecArray | null = null;
  await waitFor(
    () => {
      if (dev.exitCode !== null) throw new Error(`plexus dev exited:\n${lines.slice(-20).join('\n')}`);
      for (const line of lines) {
        found = pattern.exec(line);
        if (found) return true;
      }
      return false;
    },
    { timeoutMs, what },
  );
  return found as unknown as RegExpExecArray;
}

after(async () => {
  if (dev && dev.exitCode === null && dev.signalCode === null) {
    const exited = new Promise((r) => dev.once('exit', r));
    dev.kill('SIGINT');
    const t = setTimeout(() => dev.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
  // Whatever happened, no child outlives the test.
  for (const pid of childPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: the expected case.
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('plexus dev restarts a killed server, adds one under load and drains it back when the load is gone', {
  timeout: 60_000,
}, async () => {
  try {
    // The one dedicated server, by the supervisor's log line, registered.
    const [, serverId, pidText] = await devLine(
      /process started process=(ds-\d+) childPid=(\d+)/,
      'a server',
    );
    const firstPid = Number(pidText);
    await waitFor(async () => (await servers()).some((s) => s.serverId === serverId), {
      timeoutMs: 15_000,
      what: `${serverId} registered`,
    });

    // kill -9: the supervisor restarts it (new pid, same id and port) and it registers again.
    const killedAt = Date.now();
    process.kill(firstPid, 'SIGKILL');
    const exit = await devLine(
      new RegExp(
        `process exited unexpectedly; restarting process=${serverId} childPid=${firstPid} exitCode=null signal=SIGKILL .*restartInMs=(\\d+)`,
      ),
      'the restart decision',
    );
    assert.equal(exit[1], '100', 'the first restart waits PLEXUS_RESTART_MIN_MS');
    const [, newPid] = await devLine(
      new RegExp(`process restarted process=${serverId} childPid=(\\d+)`),
      'restarted',
    );
    assert.notEqual(Number(newPid), firstPid);
    await waitFor(
      async () =>
        (await servers()).some((s) => s.serverId === serverId && Date.parse(s.lastReportAt) > killedAt),
      { timeoutMs: 15_000, what: `${serverId} registered again after the kill` },
    );
    assert.equal((await servers()).length, 1, 'no server was added while it restarted');

    // One player on the 2-seat server leaves 1 free seat (< 2): a second server is started.
    const client = new PlexusClient({ balancerUrl });
    await client.loginAsGuest({ firstName: 'Load' });
    const pg = await client.join({ playgroundId: 'autoscale-hall' });
    const [, addedId] = await devLine(
      /autoscaler: dedicated server started serverId=(ds-\d+)/,
      'a server added',
    );
    assert.notEqual(addedId, serverId);
    await waitFor(async () => (await servers()).some((s) => s.serverId === addedId), {
      timeoutMs: 15_000,
      what: `${addedId} registered`,
    });

    // The player leaves: 4 free seats (> 3), and without the new, empty server 2 remain (≥ 2): drained.
    const drainFrom = lines.length;
    await pg.leave();
    await devLine(
      new RegExp(`autoscaler: draining a dedicated server .*serverId=${addedId}`),
      'the drain decision',
      15_000,
      drainFrom,
    );
    await devLine(
      new RegExp(`autoscaler: dedicated server drained and gone serverId=${addedId}`),
      'drained',
      20_000,
    );
    await waitFor(async () => (await servers()).map((s) => s.serverId).join() === serverId, {
      timeoutMs: 10_000,
      what: `back to ${serverId} alone`,
    });
    assert.ok(
      !lines.some((l) => l.includes(`process restarted process=${addedId}`)),
      'a drained server is not restarted',
    );
    assert.ok(!lines.some((l) => /KEEPS CRASHING|stays down/.test(l)));

    // Ctrl-C: everything stops, in reverse order, and nothing restarts meanwhile.
    const stopFrom = lines.length;
    const exited = new Promise<number | null>((r) => dev.once('exit', (code) => r(code)));
    dev.kill('SIGINT');
    assert.equal(await exited, 0);
    const stopped = lines
      .slice(stopFrom)
      .map((l) => /process stopped process=(\S+)/.exec(l)?.[1])
      .filter(Boolean);
    assert.deepEqual(stopped, [serverId, 'balancer', 'backend']);
    assert.ok(!lines.slice(stopFrom).some((l) => l.includes('process restarted')));
    for (const pid of childPids)
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `pid ${pid} is gone`);
  } catch (err) {
    // The cluster's own account of what happened is the useful part of a failure.
    (err as Error).message += `\n--- last lines of plexus dev ---\n${lines.slice(-60).join('\n')}`;
    throw err;
  }
});
