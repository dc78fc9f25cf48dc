import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './raw-socket.ts';

const CLI = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'plexus-start-up-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs `plexus <command>` with `env` until it exits; its exit code and stderr. */
async function run(
  command: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, command], {
    // Port 0 everywhere: a process that wrongly starts binds nothing in use; the kill below ends it.
    env: {
      ...process.env,
      PLEXUS_BACKEND_PORT: '0',
      PLEXUS_LB_PORT: '0',
      PLEXUS_DS_PORT: '0',
      PLEXUS_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    return { code: await withTimeout(exited, 20_000, `plexus ${command} to exit`), stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

// NODE_ENV decides whether the development keys are refused; a near miss must not pass for
// "not production" and start with them (docs/config.md, "Production secrets").
test('a NODE_ENV that is not exactly a known value stops every component, naming NODE_ENV', async () => {
  const cases: [string, string][] = [
    ['backend', 'Production'],
    ['backend', ' production'],
    ['balancer', 'production '],
    ['server', 'prod'],
  ];
  for (const [command, nodeEnv] of cases) {
    const { code, stderr } = await run(command, { NODE_ENV: nodeEnv });
    assert.equal(code, 2, `${command} with NODE_ENV=${JSON.stringify(nodeEnv)}: ${stderr}`);
    assert.match(stderr, /NODE_ENV must be exactly one of production, development, test or unset/);
    assert.ok(stderr.includes(JSON.stringify(nodeEnv)), stderr);
  }
  // Exactly "production" still refuses the development keys, naming the key to set.
  const { code, stderr } = await run('backend', { NODE_ENV: 'production' });
  assert.equal(code, 2);
  assert.match(stderr, /PLEXUS_PARTNER_KEY must be set/);
});
