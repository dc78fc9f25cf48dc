import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, test } from 'node:test';
import { createLogger } from '@plexus/kit';
import { type ProcessSpec, type RestartPolicy, restartDelayMs, Supervisor } from './supervisor.ts';

type LogRecord = Record<string, unknown> & { msg: string };

/** A supervisor whose log records are kept, with a way to wait for one. */
function harness(policy: RestartPolicy, now?: () => number) {
  const records: LogRecord[] = [];
  const waiters = new Set<() => void>();
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) records.push(JSON.parse(line));
      for (const w of waiters) w();
      done();
    },
  });
  const supervisor = new Supervisor({
    logger: createLogger({ component: 'dev', destination }),
    policy,
    ...(now ? { now } : {}),
  });
  const waitLog = (match: (r: LogRecord) => boolean, what: string, timeoutMs = 5_000) =>
    new Promise<LogRecord>((resolve, reject) => {
      const check = () => {
        const found = records.find(match);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no log line "${what}" within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { supervisor, records, waitLog };
}

let cleanup: Supervisor | null = null;
afterEach(async () => {
  await cleanup?.stopAll(1_000);
  cleanup = null;
});

/** A tiny node script: prints `up` (the supervisor's sign it came up), then runs `body`. */
function script(name: string, body: string, extra: Partial<ProcessSpec> = {}): ProcessSpec {
  return {
    name,
    command: process.execPath,
    args: ['-e', `console.log('up'); ${body}`],
    env: {},
    onLine: (line, _stream, proc) => {
      if (line === 'up') proc.markUp();
    },
    ...extra,
  };
}

const FOREVER = 'setInterval(() => {}, 1000);';
const byProcess = (name: string, msg: string) => (r: LogRecord) => r.process === name && r.msg === msg;

test('restartDelayMs doubles from the minimum up to the cap', () => {
  const policy = { backoffMinMs: 250, backoffMaxMs: 10_000, resetAfterMs: 30_000, maxFastCrashes: 5 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => restartDelayMs(n, policy)),
    [250, 250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000],
  );
});

test('a crashing process is restarted with exponential backoff, then left down after N fast crashes', async () => {
  const h = harness({ backoffMinMs: 20, backoffMaxMs: 50, resetAfterMs: 10_000, maxFastCrashes: 4 });
  cleanup = h.supervisor;
  const proc = h.supervisor.start(script('crasher', 'setTimeout(() => process.exit(3), 10);'));
  assert.equal(await proc.ended, 'gave-up');
  const restarting = h.records.filter((r) => r.msg === 'process exited unexpectedly; restarting');
  assert.deepEqual(
    restarting.map((r) => r.restartInMs),
    [20, 40, 50],
  );
  assert.ok(restarting.every((r) => r.exitCode === 3 && r.signal === null && r.process === 'crasher'));
  const gaveUp = h.records.find((r) => r.level === 50 && /KEEPS CRASHING/.test(r.msg));
  assert.ok(gaveUp, 'giving up is logged at error level');
  assert.equal(gaveUp.fastCrashes, 4);
  assert.equal(proc.restarts, 3);
  assert.equal(h.records.filter((r) => r.msg === 'process restarted').length, 3);
  assert.equal(h.supervisor.processes.length, 0, 'an ended process leaves the supervisor');
});

test('kill -9 brings the process back under a new pid; a stable run resets the backoff', async () => {
  // The uptime clock is ours: runs last no time unless we say so, however slow the machine is.
  let clock = 0;
  const h = harness(
    { backoffMinMs: 30, backoffMaxMs: 5_000, resetAfterMs: 60_000, maxFastCrashes: 5 },
    () => clock,
  );
  cleanup = h.supervisor;
  let ups = 0;
  const upWaiters: (() => void)[] = [];
  const proc = h.supervisor.start(
    script('worker', FOREVER, {
      onLine: (line, _s, p) => {
        if (line !== 'up') return;
        p.markUp();
        ups += 1;
        for (const w of upWaiters.splice(0)) w();
      },
    }),
  );
  const upNumber = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (ups >= n) return resolve();
      const t = setTimeout(() => reject(new Error(`run ${n} did not come up`)), 5_000);
      upWaiters.push(() => {
        if (ups >= n) {
          clearTimeout(t);
          resolve();
        }
      });
    });
  const pids: number[] = [];
  const killRun = async (n: number) => {
    await upNumber(n);
    const pid = proc.pid as number;
    pids.push(pid);
    process.kill(pid, 'SIGKILL');
    return h.waitLog(
      (r) => r.msg === 'process exited unexpectedly; restarting' && r.childPid === pid,
      `exit ${n}`,
    );
  };
  // Two fast crashes: 30 ms, then 60 ms.
  assert.equal((await killRun(1)).restartInMs, 30);
  const second = await killRun(2);
  assert.equal(second.restartInMs, 60);
  assert.equal(second.signal, 'SIGKILL');
  assert.equal(second.exitCode, null);
  // The third run stays up longer than resetAfterMs: its crash starts the backoff over.
  await upNumber(3);
  clock += 60_000;
  const third = await killRun(3);
  assert.equal(third.restartInMs, 30);
  await upNumber(4);
  assert.equal(new Set([...pids, proc.pid]).size, 4, 'every run is a new process');
  assert.equal(proc.restarts, 3);
});

test('exit code 0 of a process whose clean exit is final (a drained server) is not restarted', async () => {
  const h = harness({ backoffMinMs: 20, backoffMaxMs: 50, resetAfterMs: 10_000, maxFastCrashes: 4 });
  cleanup = h.supervisor;
  const drained = h.supervisor.start(
    script('drained', 'setTimeout(() => process.exit(0), 20);', { cleanExitIsFinal: true }),
  );
  assert.equal(await drained.ended, 'exited');
  assert.equal(drained.restarts, 0);
  // Without the flag the same exit counts as a death and is restarted.
  const other = h.supervisor.start(script('other', 'setTimeout(() => process.exit(0), 20);'));
  await h.waitLog(byProcess('other', 'process restarted'), 'other restarted');
  await other.stop(1_000);
  assert.equal(await other.ended, 'stopped');
});

test('a process that exits before it ever came up is not restarted', async () => {
  const h = harness({ backoffMinMs: 20, backoffMaxMs: 50, resetAfterMs: 10_000, maxFastCrashes: 4 });
  cleanup = h.supervisor;
  const proc = h.supervisor.start({
    name: 'bad-config',
    command: process.execPath,
    args: ['-e', 'process.exit(2)'],
    env: {},
  });
  assert.equal(await proc.ended, 'failed-to-start');
  const line = await h.waitLog(byProcess('bad-config', 'process failed to start; not restarted'), 'failed');
  assert.equal(line.exitCode, 2);
  assert.equal(h.records.filter((r) => r.msg === 'process restarted').length, 0);
});

test('a retired process is not restarted, whatever its exit', async () => {
  const h = harness({ backoffMinMs: 20, backoffMaxMs: 50, resetAfterMs: 10_000, maxFastCrashes: 4 });
  cleanup = h.supervisor;
  const proc = h.supervisor.start(script('retiring', FOREVER));
  proc.retire();
  process.kill(proc.pid as number, 'SIGKILL');
  assert.equal(await proc.ended, 'exited');
  assert.equal(proc.restarts, 0);
});

test('stopAll stops the processes in reverse start order and restarts nothing meanwhile', async () => {
  const h = harness({ backoffMinMs: 5_000, backoffMaxMs: 5_000, resetAfterMs: 10_000, maxFastCrashes: 4 });
  const exits: string[] = [];
  // Each takes a moment to stop, so an overlapping stop would show in the order.
  const graceful = `process.on('SIGTERM', () => setTimeout(() => process.exit(0), 50)); ${FOREVER}`;
  const first = h.supervisor.start(script('first', graceful));
  const second = h.supervisor.start(script('second', graceful));
  const crasher = h.supervisor.start(script('crasher', 'setTimeout(() => process.exit(1), 50);'));
  for (const p of [first, second, crasher]) void p.ended.then(() => exits.push(p.name));
  // The crasher is now waiting 5 s to restart; the others are running.
  await h.waitLog(byProcess('crasher', 'process exited unexpectedly; restarting'), 'crasher down');
  await h.waitLog(byProcess('second', 'process started'), 'second started');
  const t0 = Date.now();
  await h.supervisor.stopAll(2_000);
  assert.ok(Date.now() - t0 < 2_000, 'the pending restart does not hold the shutdown');
  assert.deepEqual(exits, ['crasher', 'second', 'first']);
  assert.deepEqual(await Promise.all([first.ended, second.ended, crasher.ended]), [
    'stopped',
    'stopped',
    'stopped',
  ]);
  assert.equal(h.records.filter((r) => r.msg === 'process restarted').length, 0);
  assert.throws(() => h.supervisor.start(script('late', FOREVER)), /stopping/);
});

test('neighbours of one stop group stop together', async () => {
  const h = harness({ backoffMinMs: 5_000, backoffMaxMs: 5_000, resetAfterMs: 10_000, maxFastCrashes: 4 });
  const dir = mkdtempSync(join(tmpdir(), 'plexus-stop-group-'));
  try {
    // Each one, on SIGTERM, marks itself and exits only once the other is marked too: stopped one
    // after the other, the first would wait for its SIGKILL.
    const ready = new Set<string>();
    let onReady = (): void => undefined;
    const peer = (me: string, other: string) =>
      script(
        me,
        `const fs = require('node:fs'); const path = require('node:path');
         process.on('SIGTERM', () => {
           fs.writeFileSync(path.join(${JSON.stringify(dir)}, '${me}'), '');
           setInterval(() => { if (fs.existsSync(path.join(${JSON.stringify(dir)}, '${other}'))) process.exit(0); }, 10);
         });
         console.log('ready'); ${FOREVER}`,
        {
          stopGroup: 'servers',
          onLine: (line, _stream, proc) => {
            if (line === 'up') proc.markUp();
            if (line === 'ready') ready.add(me);
            onReady();
          },
        },
      );
    const a = h.supervisor.start(peer('a', 'b'));
    const b = h.supervisor.start(peer('b', 'a'));
    // Both have their SIGTERM handler in place.
    await new Promise<void>((resolve) => {
      onReady = () => {
        if (ready.size === 2) resolve();
      };
      onReady();
    });
    await h.supervisor.stopAll(3_000);
    const stops = h.records.filter((r) => r.msg === 'process stopped');
    assert.deepEqual(stops.map((r) => [r.process, r.exitCode, r.signal]).sort(), [
      ['a', 0, null],
      ['b', 0, null],
    ]);
    assert.deepEqual(await Promise.all([a.ended, b.ended]), ['stopped', 'stopped']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
