// A Colyseus bot process of `npm run bench:replication`: the same random walk at 20 Hz and the same
// latency and byte measurement as @plexus/bots (Walker, SendLog, LatencyHistogram), over the
// Colyseus SDK, driven over the same IPC contract (../src/replication/bot-protocol.ts).
import { LatencyHistogram, percentile, SendLog, Walker } from '@plexus/bots';
import { cpuSeconds, serveBotIpc } from '../src/replication/bot-protocol.ts';

// The SDK prefers the global (undici) WebSocket; remove it so that it uses `ws`, as the Plexus bots do.
delete (globalThis as { WebSocket?: unknown }).WebSocket;
const { Callbacks, Client } = await import('@colyseus/sdk');

const env = process.env;
const endpoint = env.BENCH_TARGET as string;
const roomName = env.BENCH_PLAYGROUND as string;
const spread = Number(env.BENCH_SPREAD ?? 50);
const observersWanted = Number(env.BENCH_OBSERVERS ?? 16);
const idle = env.BENCH_IDLE === '1';
const MATCH_TOLERANCE_M = 0.01;

interface Bot {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's Room type is generic over the server's
  room: any;
  walker: Walker;
  bytes: number;
  connected: boolean;
}

const bots: Bot[] = [];
const slotOfSession = new Map<string, number>();
const sendLog = new SendLog(4096);
const hist = new LatencyHistogram();
const joinTimes: number[] = [];
const errors: string[] = [];
let failed = 0;
let disconnects = 0;
let observers = 0;
let moves = 0;
let closing = false;
let win = { ms: performance.now(), bytes: 0, moves: 0, cpu: cpuSeconds() };

function totalBytes(): number {
  let n = 0;
  for (const b of bots) n += b.bytes;
  return n;
}

async function joinOne(): Promise<void> {
  const t0 = performance.now();
  const observer = observers < observersWanted;
  if (observer) observers++;
  try {
    const client = new Client(endpoint);
    const room = await client.joinOrCreate(roomName);
    const index = bots.length;
    const ws = room.connection.transport.ws;
    const bot: Bot = { room, walker: new Walker(0, 0, { spread }), bytes: 0, connected: true };
    if (idle) bot.walker.deploying = false;
    bots.push(bot);
    if (index >= 4096) throw new Error('more than 4096 bots in one process');
    slotOfSession.set(room.sessionId, index);
    const decode = ws.onmessage;
    if (observer) {
      ws.onmessage = (ev: { data: ArrayBuffer }) => {
        bot.bytes += ev.data.byteLength;
        decode(ev);
      };
      const callbacks = Callbacks.get(room);
      const lastMatched = new Map<number, number>();
      // biome-ignore lint/suspicious/noExplicitAny: schema instances decoded by reflection
      callbacks.onAdd('players', (player: any, sessionId: string) => {
        if (sessionId === room.sessionId) return;
        callbacks.onChange(player, () => {
          const s = slotOfSession.get(sessionId);
          if (s === undefined) return;
          const sent = sendLog.match(s, player.x, player.z, MATCH_TOLERANCE_M);
          if (Number.isNaN(sent) || sent === lastMatched.get(s)) return;
          lastMatched.set(s, sent);
          hist.record(performance.now() - sent);
        });
      });
    } else {
      // Light bot: after the join, count bytes instead of decoding (as the Plexus light bots do).
      ws.onmessage = (ev: { data: ArrayBuffer }) => {
        bot.bytes += ev.data.byteLength;
      };
    }
    room.onLeave(() => {
      if (bot.connected && !closing) disconnects++;
      bot.connected = false;
    });
    joinTimes.push(performance.now() - t0);
  } catch (err) {
    failed++;
    if (errors.length < 20) errors.push((err as Error).message);
  }
}

let last = performance.now();
setInterval(() => {
  const now = performance.now();
  const dtS = Math.min(0.25, (now - last) / 1000);
  last = now;
  if (idle) return;
  for (let i = 0; i < bots.length; i++) {
    const b = bots[i] as Bot;
    if (!b.connected) continue;
    b.walker.step(dtS);
    const sent = performance.now();
    try {
      b.room.send('move', { x: b.walker.x, y: 0, z: b.walker.z, rotY: b.walker.heading });
    } catch {
      continue;
    }
    sendLog.record(i, b.walker.x, b.walker.z, sent);
    moves++;
  }
}, 50);

serveBotIpc({
  async join(count) {
    // The first join creates the room; the rest join it concurrently.
    let left = count;
    if (bots.length === 0 && left > 0) {
      await joinOne();
      left--;
    }
    let next = 0;
    const worker = async () => {
      while (next < left) {
        next++;
        await joinOne();
      }
    };
    await Promise.all(Array.from({ length: Math.min(32, left) }, worker));
  },
  status: () => ({
    joined: joinTimes.length,
    failed,
    connected: bots.filter((b) => b.connected).length,
    deploying: bots.filter((b) => b.connected && b.walker.deploying).length,
    disconnects,
    errors: errors.slice(0, 5),
    joinMs: { p50: percentile(joinTimes, 50), p99: percentile(joinTimes, 99) },
  }),
  windowStart() {
    hist.reset();
    win = { ms: performance.now(), bytes: totalBytes(), moves, cpu: cpuSeconds() };
  },
  window: () => ({
    seconds: (performance.now() - win.ms) / 1000,
    clients: bots.filter((b) => b.connected).length,
    bytesReceived: totalBytes() - win.bytes,
    movesSent: moves - win.moves,
    latency: hist.toSparse(),
    cpuS: cpuSeconds() - win.cpu,
  }),
  async stop() {
    closing = true;
    await Promise.all(bots.map((b) => (b.connected ? b.room.leave(true).catch(() => 0) : 0)));
  },
});
