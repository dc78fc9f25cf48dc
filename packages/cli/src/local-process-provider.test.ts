import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { createLogger } from '@plexus/kit';
import { type Launched, type ListenInfo, LocalProcessProvider } from './local-process-provider.ts';
import { Supervisor } from './supervisor.ts';

const logs: Record<string, unknown>[] = [];
const supervisor = new Supervisor({
  logger: createLogger({
    component: 'dev',
    destination: new Writable({
      write(chunk, _e, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(l));
        done();
      },
    }),
  }),
  policy: { backoffMinMs: 20, backoffMaxMs: 100, resetAfterMs: 10_000, maxFastCrashes: 5 },
});
after(() => supervisor.stopAll(2_000));

/**
 * A stand-in for `plexus server`: a real process that binds PLEXUS_DS_PORT and logs `listening` like
 * a dedicated server; on SIGTERM it exits 0, as a drained server does.
 */
const FAKE_SERVER = `
const port = Number(process.env.PLEXUS_DS_PORT);
const s = require('node:net').createServer().listen({ host: '127.0.0.1', port }, () => {
  console.log(JSON.stringify({ msg: 'listening', url: 'http://127.0.0.1:' + port, endpoint: 'ws://127.0.0.1:' + port + '/ws' }));
});
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;

function launch(id: string, env: Record<string, string>): Launched {
  let resolve!: (info: ListenInfo) => void;
  const listening = new Promise<ListenInfo>((r) => {
    resolve = r;
  });
  const proc = supervisor.start({
    name: id,
    command: process.execPath,
    args: ['-e', FAKE_SERVER],
    env: { ...env },
    cleanExitIsFinal: true,
    onLine: (line, stream, p) => {
      if (stream !== 'stdout' || !line.includes('"listening"')) return;
      p.markUp();
      resolve(JSON.parse(line));
    },
  });
  return { proc, listening };
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port }, () => resolve(s));
  });
}

test('servers take the next free ports from the base, named after them; a taken port is skipped', async () => {
  // A port someone else holds: the base.
  const taken = await listen(0);
  const base = (taken.address() as { port: number }).port;
  const provider = new LocalProcessProvider({ launch, host: '127.0.0.1', portBase: base, idPrefix: 'ds' });
  try {
    const [a, b] = await Promise.all([provider.start(), provider.start()]);
    assert.ok(a && b);
    const ports = [a, b].map((s) => Number(s.id.slice(3)));
    assert.ok(
      ports.every((p) => p > base && p < base + 50),
      `ports ${ports} after ${base}`,
    );
    assert.notEqual(ports[0], ports[1]);
    assert.deepEqual(
      [a, b].map((s) => s.endpoint),
      ports.map((p) => `ws://127.0.0.1:${p}/ws`),
    );
    assert.deepEqual(
      provider.list().map((s) => s.id),
      [a.id, b.id],
    );

    // stop: retired, SIGTERM now (no grace), gone from the list, never restarted.
    await provider.stop(a.id);
    assert.deepEqual(
      provider.list().map((s) => s.id),
      [b.id],
    );
    // Its port is free again, so the next server takes it.
    const c = await provider.start();
    assert.equal(c.id, a.id);
    await Promise.all([provider.stop(b.id), provider.stop(c.id)]);
    assert.equal(provider.list().length, 0);
    assert.ok(!logs.some((r) => r.msg === 'process restarted'));
  } finally {
    taken.close();
  }
});

test('a killed server comes back on its port; one that exits 0 by itself leaves the list', async () => {
  const provider = new LocalProcessProvider({ launch, host: '127.0.0.1', portBase: 0, idPrefix: 'pool' });
  const s = await provider.start();
  assert.match(s.id, /^pool-\d+$/);
  const proc = supervisor.processes.find((p) => p.name === s.id);
  assert.ok(proc?.pid);
  const firstPid = proc.pid;
  process.kill(firstPid, 'SIGKILL');
  await waitUntil(() => proc.pid !== undefined && proc.pid !== firstPid && proc.restarts === 1);
  // Restarted on the same port: something listens there again.
  const port = Number(s.id.slice('pool-'.length));
  await waitUntil(() => canConnect(port));
  assert.deepEqual(provider.list(), [s]);
  // Exit 0 (a drained server): not restarted, and the provider forgets it.
  process.kill(proc.pid as number, 'SIGTERM');
  assert.equal(await proc.ended, 'exited');
  assert.deepEqual(provider.list(), []);
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
