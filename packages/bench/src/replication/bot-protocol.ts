/**
 * The IPC contract between the benchmark orchestrator and its bot processes (one per system and
 * workload: Plexus bots over @plexus/bots, Colyseus bots over its SDK). Requests carry an id; the
 * bot process answers each with a reply of the same id.
 */
export type BotRequest =
  | { id: number; type: 'join'; count: number }
  | { id: number; type: 'status' }
  | { id: number; type: 'window-start' }
  | { id: number; type: 'window' }
  | { id: number; type: 'stop' };

export interface BotStatus {
  joined: number;
  failed: number;
  connected: number;
  deploying: number;
  disconnects: number;
  errors: string[];
  joinMs: { p50: number; p99: number };
}

export interface BotWindow {
  seconds: number;
  clients: number;
  bytesReceived: number;
  movesSent: number;
  /** Sparse latency histogram (LatencyHistogram.toSparse). */
  latency: { bins: [number, number][]; count: number; sumMs: number };
  /** CPU time of the bot process over the window, s. */
  cpuS: number;
}

export type BotReply =
  | { id: number; type: 'ok' }
  | ({ id: number; type: 'status' } & BotStatus)
  | ({ id: number; type: 'window' } & BotWindow)
  | { id: number; type: 'error'; message: string };

/** Options a bot process reads from its environment. */
export interface BotEnv {
  BENCH_TARGET: string;
  BENCH_PLAYGROUND: string;
  BENCH_SPREAD: string;
  BENCH_OBSERVERS: string;
  BENCH_IDLE: string;
}

/** Serves the IPC contract on `process` with the given handlers. */
export function serveBotIpc(handlers: {
  join(count: number): Promise<void>;
  status(): BotStatus;
  windowStart(): void;
  window(): BotWindow;
  stop(): Promise<void>;
}): void {
  process.on('message', (req: BotRequest) => {
    const reply = (r: Record<string, unknown>) => process.send?.({ id: req.id, ...r });
    const run = async () => {
      switch (req.type) {
        case 'join':
          await handlers.join(req.count);
          return reply({ type: 'ok' });
        case 'status':
          return reply({ type: 'status', ...handlers.status() });
        case 'window-start':
          handlers.windowStart();
          return reply({ type: 'ok' });
        case 'window':
          return reply({ type: 'window', ...handlers.window() });
        case 'stop':
          await handlers.stop();
          reply({ type: 'ok' });
          setTimeout(() => process.exit(0), 50);
          return;
      }
    };
    run().catch((err: unknown) => reply({ type: 'error', message: (err as Error).message }));
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ id: 0, type: 'ok' });
}

/** CPU seconds (user + system) this process used so far. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
