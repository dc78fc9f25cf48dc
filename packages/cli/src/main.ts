#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError } from '@plexus/kit';
import { type ComponentName, runComponent } from './components.ts';
import { loadDevClusterConfig } from './dev-config.ts';
import { ensureServerNodeFlags } from './server-node-flags.ts';

const USAGE = `Usage: plexus <command> [options]

Commands:
  dev        run backend, balancer and PLEXUS_DS_COUNT dedicated servers locally (plus the demo),
             restarting any that dies and autoscaling the servers (docs/operations.md)
  backend    run the Backend Server
  balancer   run the Load Balancer
  server     run one Dedicated Server
  bots       join N guest bots that random-walk and report latency and bandwidth (plexus bots --help)

Options (components):
  --host <addr>     bind address
  --port <n>        listen port
  --config <file>   JSON config file (same keys as docs/config.md)
  -h, --help        this text

Every option can also come from the environment: see docs/config.md.`;

async function main(argv: string[]): Promise<number> {
  // Each command loads only what it runs (components.ts says why).
  if (argv[0] === 'bots') return (await import('./bots-command.ts')).runBotsCommand(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const env = { ...process.env };
  if (values.config) env.PLEXUS_CONFIG_FILE = values.config;
  const flags: Record<string, unknown> = {};
  if (values.host !== undefined) flags.host = values.host;
  if (values.port !== undefined) flags.port = values.port;

  switch (command) {
    case 'dev':
      await (await import('./dev-cluster.ts')).runDevCluster(loadDevClusterConfig(env), env);
      return -1;
    case 'server':
      ensureServerNodeFlags();
      await runComponent(command, env, flags);
      return -1;
    case 'backend':
    case 'balancer':
      await runComponent(command as ComponentName, env, flags);
      return -1;
    default:
      console.error(`plexus: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // -1: a long-running command; its own signal handlers decide when the process ends.
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`plexus: ${(err as Error).message}`);
      process.exit(2);
    }
    console.error('plexus: failed to start:', err);
    process.exit(1);
  },
);
