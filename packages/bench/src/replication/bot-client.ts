import { type ChildProcess, fork } from 'node:child_process';
import type { BotReply, BotRequest, BotStatus, BotWindow } from './bot-protocol.ts';

type Req = BotRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** A bot process (Plexus or Colyseus) spoken to over IPC. */
export class BotProcess {
  readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, (r: BotReply) => void>();
  private readonly ready: Promise<void>;

  constructor(script: string, env: Record<string, string>, cwd?: string) {
    this.proc = fork(script, [], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      ...(cwd ? { cwd } : {}),
    });
    this.ready = new Promise((resolve, reject) => {
      this.proc.once('exit', (code) => reject(new Error(`bot process exited with ${code}`)));
      this.proc.on('message', (r: BotReply) => {
        if (r.id === 0) return resolve();
        this.pending.get(r.id)?.(r);
        this.pending.delete(r.id);
      });
    });
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  async request<T extends BotReply>(req: Req, timeoutMs = 300_000): Promise<T> {
    await this.ready;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`bot process: ${req.type} timed out`)), timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(t);
        if (r.type === 'error') reject(new Error(r.message));
        else resolve(r as T);
      });
      this.proc.send({ ...req, id });
    });
  }

  async join(count: number): Promise<void> {
    await this.request({ type: 'join', count });
  }
  status(): Promise<BotStatus> {
    return this.request<BotReply & BotStatus>({ type: 'status' });
  }
  async windowStart(): Promise<void> {
    await this.request({ type: 'window-start' });
  }
  window(): Promise<BotWindow> {
    return this.request<BotReply & BotWindow>({ type: 'window' });
  }
  async stop(): Promise<void> {
    try {
      await this.request({ type: 'stop' }, 20_000);
    } catch {
      // Gone already or stuck: killed below.
    }
    this.proc.kill('SIGKILL');
  }
}
