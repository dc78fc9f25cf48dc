import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { missingServerFlags } from './server-node-flags.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/**
 * Starts `plexus server` (no balancer answers: it listens and keeps retrying), waits for its
 * `listening` line and returns the command line of the process that printed it.
 */
async function serverCommandLine(env: Record<string, string>): Promise<string[]> {
  const child = spawn(process.execPath, [MAIN, 'server'], {
    env: {
      ...process.env,
      PLEXUS_DS_PORT: '0',
      PLEXUS_DS_ID: 'flags-test',
      PLEXUS_BALANCER_URL: 'http://127.0.0.1:9',
      PLEXUS_CLUSTER_SECRET: 'x'.repeat(40),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    for await (const line of lines) {
      if (line.includes('"listening"')) break;
    }
    clearTimeout(timer);
    // The same pid: the flags are applied by replacing the process, not by a child of it.
    return readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
  } finally {
    child.kill('SIGKILL');
  }
}

test('plexus server runs with 8 MB semi-spaces and an exposed GC by default, in the same process', async () => {
  const argv = await serverCommandLine({});
  assert.ok(argv.includes('--max-semi-space-size=8') && argv.includes('--expose-gc'), argv.join(' '));
});

test("an operator's own semi-space size is kept; the flags it lacks are added", async () => {
  const argv = await serverCommandLine({ NODE_OPTIONS: '--max-semi-space-size=4' });
  assert.ok(!argv.includes('--max-semi-space-size=8'), argv.join(' '));
  assert.ok(argv.includes('--expose-gc'), argv.join(' '));
  assert.deepEqual(missingServerFlags(['--max-semi-space-size', '4'], undefined), ['--expose-gc']);
  assert.deepEqual(missingServerFlags(['--max-old-space-size=512'], '--inspect'), [
    '--max-semi-space-size=8',
    '--expose-gc',
  ]);
  assert.deepEqual(missingServerFlags(['--expose-gc'], '--max-semi-space-size=16'), []);
});
