import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.ts';

const execFileAsync = promisify(execFile);

/** A PostgreSQL server for tests and benchmarks. */
export interface PostgresServer {
  /** URL of the server's `postgres` database, as a superuser. */
  url: string;
  /** Creates a uniquely named empty database and returns its URL; dropped or discarded by `stop()`. */
  createDatabase(): Promise<string>;
  /** Drops the created databases (shared server) or stops the throwaway server and deletes it. */
  stop(): Promise<void>;
}

/** Thrown by startPostgres when no PostgreSQL server binaries are installed (and no URL is given). */
export class PostgresNotInstalledError extends Error {
  override name = 'PostgresNotInstalledError';
}

/** Debian/Ubuntu install PostgreSQL's server binaries under /usr/lib/postgresql/<major>/bin. */
const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The bin directory of the newest installed PostgreSQL, or undefined. */
export function findPostgresBin(): string | undefined {
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  return readdirSync(DEBIAN_ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(DEBIAN_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(DEBIAN_ROOT, v, 'bin'))[0];
}

/**
 * A PostgreSQL server for tests: the one at `PLEXUS_TEST_DATABASE_URL` when set (CI starts one for
 * the whole run; databases created here are dropped at `stop()`), else a throwaway cluster of the
 * installed binaries: initdb into a temp directory, listening on 127.0.0.1 on a free port with its
 * unix socket in that directory, fsync on (durability tests rely on real commits), stopped with
 * `pg_ctl -m fast` and deleted. As root the server runs as the `postgres` OS user (PostgreSQL
 * refuses to run as root). Rejects with PostgresNotInstalledError when there are no binaries.
 */
export async function startPostgres(
  environment: Record<string, string | undefined> = process.env,
): Promise<PostgresServer> {
  const shared = environment.PLEXUS_TEST_DATABASE_URL;
  if (shared) return databasesOn(shared, async () => {});
  const bin = findPostgresBin();
  if (!bin) {
    throw new PostgresNotInstalledError(
      `PostgreSQL is not installed: no ${DEBIAN_ROOT}/<version>/bin/initdb. Install it ` +
        '(apt-get install postgresql) or set PLEXUS_TEST_DATABASE_URL to a server tests may create databases on.',
    );
  }
  const cluster = await startCluster(bin);
  return databasesOn(cluster.url, cluster.stop);
}

let databaseCount = 0;

function databasesOn(url: string, stopServer: () => Promise<void>): PostgresServer {
  const created: string[] = [];
  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  let stopping: Promise<void> | undefined;
  return {
    url,
    async createDatabase() {
      const name = `plexus_test_${process.pid}_${++databaseCount}_${randomBytes(3).toString('hex')}`;
      await admin((client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const dbUrl = new URL(url);
      dbUrl.pathname = `/${name}`;
      return dbUrl.toString();
    },
    stop() {
      stopping ??= (async () => {
        try {
          if (created.length > 0) {
            // FORCE: a test that failed may have left connections open.
            await admin(async (client) => {
              for (const name of created.splice(0))
                await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            });
          }
        } finally {
          await stopServer();
        }
      })();
      return stopping;
    },
  };
}

async function startCluster(bin: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  // PostgreSQL refuses to run as root: run its tools as the postgres OS user then.
  const command = (tool: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  const run = (tool: string, args: string[]) => execFileAsync(...command(tool, args), { timeout: 60_000 });
  const pgCtlStop = (mode: 'fast' | 'immediate') => command('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);

  let started = false;
  // If the test process dies without stop(), do not leave a server running nor its files behind.
  const onExit = () => {
    if (started) spawnSync(...pgCtlStop('immediate'), { stdio: 'ignore', timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    // --no-sync only skips flushing initdb's own files; the server itself runs with fsync on.
    await run('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    let port = 0;
    for (let attempt = 1; !started; attempt++) {
      port = await freePort();
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=on -c synchronous_commit=on`;
      try {
        await run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', options, 'start']);
        started = true;
      } catch (err) {
        // Another process may have taken the free port in between: try another one.
        const serverLog = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if (attempt >= 3 || !/could not bind|address already in use/i.test(serverLog)) {
          throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${serverLog.slice(-2000)}`);
        }
      }
    }
    let stopping: Promise<void> | undefined;
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop() {
        stopping ??= (async () => {
          try {
            await execFileAsync(...pgCtlStop('fast'), { timeout: 60_000 });
            started = false;
          } finally {
            process.removeListener('exit', onExit);
            onExit();
          }
        })();
        return stopping;
      },
    };
  } catch (err) {
    process.removeListener('exit', onExit);
    onExit();
    throw err;
  }
}
