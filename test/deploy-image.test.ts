import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { ValidationSeverity, validate } from 'dockerfile-utils';
import { parse } from 'yaml';
import { KNOWN_ENV, ROOT, readRepoFile, SECRET_ENV } from './deploy-support.ts';

// The image, checked where containers cannot run (docs/deploy.md, "What was verified here"): the
// Dockerfile linted and read, its entrypoint command run outside a container, compose.yaml read.

const dockerfile = readRepoFile('Dockerfile');

/** Instructions with continuation lines joined and comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
const finalStage = instructions.slice(instructions.findLastIndex((i) => i.op === 'FROM'));
const runtimeEnv = Object.fromEntries(
  finalStage
    .filter((i) => i.op === 'ENV')
    .flatMap((i) => i.args.split(/\s+/).map((kv) => kv.split('=') as [string, string])),
);
const entrypoint = JSON.parse(finalStage.find((i) => i.op === 'ENTRYPOINT')?.args ?? 'null') as string[];

describe('Dockerfile', () => {
  test('lints clean with dockerfile-utils, every rule an error', () => {
    const all = ValidationSeverity.ERROR;
    const diagnostics = validate(dockerfile, {
      deprecatedMaintainer: all,
      directiveCasing: all,
      emptyContinuationLine: all,
      instructionCasing: all,
      instructionCmdMultiple: all,
      instructionEntrypointMultiple: all,
      instructionHealthcheckMultiple: all,
      instructionJSONInSingleQuotes: all,
      instructionWorkdirRelative: all,
    });
    assert.deepEqual(
      diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`),
      [],
    );
  });

  test('multi-stage on Node 24: install, build the web assets, drop dev dependencies', () => {
    const stages = instructions.filter((i) => i.op === 'FROM').map((i) => i.args);
    assert.ok(stages.length >= 3, stages.join(' | '));
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-/m);
    assert.match(dockerfile, /RUN npm ci /);
    assert.match(dockerfile, /RUN node packages\/web\/build\.ts/);
    assert.match(dockerfile, /npm prune --omit=dev/);
    assert.ok(finalStage.some((i) => i.op === 'COPY' && i.args.startsWith('--from=prod-deps')));
  });

  test('every workspace manifest is copied before the install (npm ci needs them all)', () => {
    const workspaces = (JSON.parse(readRepoFile('package.json')) as { workspaces: string[] }).workspaces;
    for (const ws of workspaces) {
      assert.ok(
        instructions.some((i) => i.op === 'COPY' && i.args === `${ws}/package.json ${ws}/`),
        `COPY ${ws}/package.json missing`,
      );
    }
  });

  test('runtime: non-root, exec-form entrypoint (signals reach Node), state only in the /data volume', () => {
    assert.deepEqual(
      finalStage.filter((i) => i.op === 'USER').map((i) => i.args),
      ['node'],
    );
    assert.deepEqual(entrypoint, ['node', 'packages/cli/src/main.ts']);
    assert.equal(runtimeEnv.PLEXUS_DATA_DIR, '/data');
    assert.equal(runtimeEnv.NODE_ENV, 'production');
    assert.ok(finalStage.some((i) => i.op === 'VOLUME' && i.args === '["/data"]'));
    for (const name of Object.keys(runtimeEnv)) {
      if (name.startsWith('PLEXUS_')) assert.ok(KNOWN_ENV.has(name), `${name} is read by no component`);
      assert.doesNotMatch(name, SECRET_ENV);
    }
  });

  test('.dockerignore keeps dependencies, VCS, data, tests and docs out of the context', () => {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['**/node_modules', '.git', 'data', '**/*.test.ts', 'docs', 'test']) {
      assert.ok(ignored.includes(p), p);
    }
  });
});

/** Runs the image's entrypoint command outside a container, with the image's environment. */
function runEntrypoint(args: string[], env: Record<string, string>) {
  const [command, ...entryArgs] = entrypoint;
  assert.equal(command, 'node');
  const proc = spawn(process.execPath, [...entryArgs, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...runtimeEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; url?: string };
        if (rec.msg === 'listening' && rec.url) resolve(rec.url);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  // A run that is expected to fail never listens: that rejection is not an error of the test.
  listening.catch(() => {});
  return { proc, exited, listening, stderr: () => stderr };
}

describe("the image's entrypoint, run outside a container", () => {
  test('`backend` with the image environment: answers /healthz and /readyz, keeps its state in PLEXUS_DATA_DIR, exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plexus-image-'));
    const run = runEntrypoint(['backend'], {
      PLEXUS_DATA_DIR: dataDir,
      PLEXUS_BACKEND_HOST: '127.0.0.1',
      PLEXUS_BACKEND_PORT: '0',
      PLEXUS_PARTNER_KEY: randomBytes(24).toString('hex'),
      PLEXUS_OPERATOR_KEY: randomBytes(24).toString('hex'),
    });
    try {
      const url = await run.listening;
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      assert.ok(
        readdirSync(dataDir).some((f) => f.startsWith('plexus.db')),
        'the database lives in the data dir',
      );
      run.proc.kill('SIGTERM');
      assert.equal(await run.exited, 0);
    } finally {
      run.proc.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('NODE_ENV=production (the image) refuses the development keys, naming the variable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'plexus-image-'));
    const run = runEntrypoint(['backend'], { PLEXUS_DATA_DIR: dataDir, PLEXUS_BACKEND_PORT: '0' });
    try {
      assert.equal(await run.exited, 2);
      assert.match(run.stderr(), /PLEXUS_PARTNER_KEY must be set/);
      assert.equal(existsSync(join(dataDir, 'plexus.db')), false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('deploy/compose.yaml', () => {
  type Service = {
    image?: string;
    build?: unknown;
    command?: string[];
    environment?: Record<string, string>;
    healthcheck?: unknown;
  };
  const compose = parse(readRepoFile('deploy/compose.yaml'), { merge: true }) as {
    services: Record<string, Service>;
  };
  const services = Object.entries(compose.services);
  const running = (cmd: string) => services.filter(([, s]) => s.command?.[0] === cmd);

  test('PostgreSQL and Redis from their official images, two balancers on Redis, three servers, one image', () => {
    assert.match(compose.services.postgres?.image ?? '', /^postgres:\d+$/);
    assert.match(compose.services.redis?.image ?? '', /^redis:\d+$/);
    assert.equal(running('backend').length, 1);
    assert.equal(running('balancer').length, 2);
    assert.equal(running('server').length, 3);
    for (const [, s] of running('balancer'))
      assert.equal(s.environment?.PLEXUS_REDIS_URL, 'redis://redis:6379');
    const plexus = [...running('backend'), ...running('balancer'), ...running('server')];
    assert.equal(new Set(plexus.map(([, s]) => s.image)).size, 1);
    for (const [name, s] of plexus) assert.ok(s.healthcheck, `${name} has a health check`);
  });

  test('no key in the file: every secret is a required variable reference', () => {
    for (const [name, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (!SECRET_ENV.test(key)) continue;
        // A URL may hold a password only as a reference.
        const literal = String(value).replace(/\$\{[A-Z_]+:\?[^}]*\}/g, '');
        assert.doesNotMatch(literal, /:[^/:@]+@/, `${name}: ${key} holds a literal password`);
        if (!/_URL$/.test(key)) assert.match(String(value), /^\$\{[A-Z_]+:\?[^}]*\}$/, `${name}: ${key}`);
      }
      for (const key of Object.keys(s.environment ?? {})) {
        if (key.startsWith('PLEXUS_'))
          assert.ok(KNOWN_ENV.has(key), `${name}: ${key} is read by no component`);
      }
    }
  });
});
