import type { Logger } from '@plexus/kit';
import type {
  LoadMessage,
  PlayerRecordMessage,
  PlexusEventEnvelope,
  RegisterMessage,
  ServerToBalancer,
} from '@plexus/protocol';
import { ControlClient } from './control-client.ts';
import { ControlRpc } from './control-rpc.ts';
import type { TicketVerifier } from './ticket-verifier.ts';

export interface BalancerLinksOptions {
  /** Every balancer to connect to (config `balancerUrl`). */
  balancerUrls: readonly string[];
  clusterSecret: string;
  logger: Logger;
  verifier: TicketVerifier;
  registerMessage: () => RegisterMessage;
  /** Built once per interval and sent to every registered link (it resets interval counters). */
  loadReport: () => LoadMessage;
  loadIntervalMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  onCommand: (command: 'drain' | 'shutdown') => void;
  onRelease: (playgroundId: string) => void;
  onEvent: (event: PlexusEventEnvelope) => void;
  /** A user's record, sent by the balancer that issued their ticket. */
  onPlayerRecord: (msg: PlayerRecordMessage) => void;
}

/**
 * One control channel per balancer: the server registers with each (listing its playgrounds and
 * their epochs, again on every reconnect), accepts tickets signed by any of them, sends each the
 * same load report, and carries control RPCs over the first registered one.
 */
export class BalancerLinks {
  readonly rpc: ControlRpc;
  private readonly options: BalancerLinksOptions;
  private readonly clients: ControlClient[];
  private loadTimer: NodeJS.Timeout | null = null;

  constructor(options: BalancerLinksOptions) {
    this.options = options;
    this.rpc = new ControlRpc(() => this.clients);
    this.clients = options.balancerUrls.map((balancerUrl) => {
      const client: ControlClient = new ControlClient({
        balancerUrl,
        clusterSecret: options.clusterSecret,
        logger: options.logger.child({ channel: 'control', balancer: balancerUrl }),
        reconnectMinMs: options.reconnectMinMs,
        reconnectMaxMs: options.reconnectMaxMs,
        registerMessage: options.registerMessage,
        onRegistered: (msg) => options.verifier.setKey(msg.ticketKey, balancerUrl),
        onUp: () => this.rpc.linkUp(),
        onDown: () => this.rpc.linkDown(client),
        onCommand: options.onCommand,
        onRelease: options.onRelease,
        onRpcResult: (msg) => this.rpc.onResult(msg),
        onEvent: options.onEvent,
        onPlayerRecord: options.onPlayerRecord,
      });
      return client;
    });
  }

  /** True while at least one balancer accepted the registration. */
  get isRegistered(): boolean {
    return this.clients.some((c) => c.isRegistered);
  }

  start(): void {
    for (const c of this.clients) c.start();
    this.loadTimer = setInterval(() => this.sendLoad(), this.options.loadIntervalMs);
  }

  /** Sends a load report now (e.g. `draining: true` must not wait for the next interval). */
  sendLoad(): void {
    if (!this.isRegistered) return;
    this.sendToAll(this.options.loadReport());
  }

  /** Sends to every registered balancer. */
  sendToAll(msg: ServerToBalancer): void {
    const text = JSON.stringify(msg);
    for (const c of this.clients) if (c.isRegistered) c.sendText(text);
  }

  ticketRedeemed(jti: string, playgroundId: string): void {
    this.sendToAll({ type: 'ticketRedeemed', jti, playgroundId });
  }

  async close(): Promise<void> {
    if (this.loadTimer) clearInterval(this.loadTimer);
    this.loadTimer = null;
    await Promise.all(this.clients.map((c) => c.close()));
    this.rpc.close();
  }
}
