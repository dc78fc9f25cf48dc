// A Plexus bot process of `npm run bench:replication`: a @plexus/bots Swarm driven over IPC.
import { Swarm } from '@plexus/bots';
import { cpuSeconds, serveBotIpc } from './bot-protocol.ts';

const env = process.env;
const swarm = new Swarm({
  balancerUrl: env.BENCH_TARGET as string,
  playgroundId: env.BENCH_PLAYGROUND as string,
  spread: Number(env.BENCH_SPREAD ?? 50),
  observers: Number(env.BENCH_OBSERVERS ?? 16),
  idle: env.BENCH_IDLE === '1',
  namePrefix: `Bench${process.pid}-`,
  concurrency: 32,
});
let windowCpu = cpuSeconds();

serveBotIpc({
  join: (count) => swarm.join(count),
  status: () => {
    const s = swarm.summary(0);
    const p = swarm.progress();
    return {
      joined: s.joined,
      failed: s.failed,
      connected: p.connected,
      deploying: p.deploying,
      disconnects: s.disconnects,
      errors: s.errors,
      joinMs: s.joinMs,
    };
  },
  windowStart: () => {
    swarm.startWindow();
    windowCpu = cpuSeconds();
  },
  window: () => {
    const w = swarm.window();
    return {
      seconds: w.seconds,
      clients: w.clients,
      bytesReceived: w.bytesReceived,
      movesSent: w.movesSent,
      latency: w.histogram.toSparse(),
      cpuS: cpuSeconds() - windowCpu,
    };
  },
  stop: () => swarm.close(),
});
