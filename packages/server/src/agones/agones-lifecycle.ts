import sdkModule from '@google-cloud/agones-sdk';
import type { Logger } from '@plexus/kit';

// The package's typings declare an ES default export, but it is CommonJS (`module.exports =
// AgonesSDK`): an ES import's default is the class itself.
const AgonesSDK = sdkModule as unknown as typeof sdkModule.default;
type AgonesSDK = InstanceType<typeof AgonesSDK>;

/** The port the Fleet names for clients (deploy/k8s/base/fleet.yaml); the first port otherwise. */
const CLIENT_PORT_NAME = 'ws';
/** Path of the client WebSocket on the dedicated server (docs/protocol.md). */
const CLIENT_WS_PATH = '/ws';

export interface AgonesIdentity {
  /** The GameServer's name: the server registers with it, so an allocation names the same server. */
  name: string;
  /** `ws://<status.address>:<allocated port>/ws`, what clients are sent to. */
  endpoint: string;
}

export interface AgonesProbes {
  /** At least one balancer accepted the registration, and no drain has begun. */
  registered(): boolean;
  /** It hosts at least one playground. */
  hosting(): boolean;
  /** Monotonic time of the last completed tick. */
  lastTickAtMs(): number;
  now(): number;
}

export interface AgonesLifecycleOptions {
  logger: Logger;
  /** How often health is pinged and the state re-checked (the Fleet's `health.periodSeconds` is longer). */
  intervalMs: number;
  /** No tick for this long: health pings stop, so Agones marks the server Unhealthy and replaces it. */
  tickStallMs: number;
}

/**
 * The dedicated server's side of the Agones GameServer lifecycle (docs/deploy.md), through the
 * official SDK talking to the sidecar on `AGONES_SDK_GRPC_PORT` (the SDK reads it itself):
 * Ready once registered with a balancer; Health while the tick runs; Allocated while it hosts
 * (so a scale-down never takes a busy server) and Ready again when it hosts nothing, so the Fleet
 * may take it back; Shutdown once drained.
 */
export class AgonesLifecycle {
  readonly identity: AgonesIdentity;
  #sdk: AgonesSDK;
  #o: AgonesLifecycleOptions;
  #timer: NodeJS.Timeout | null = null;
  #state: 'starting' | 'ready' | 'allocated' = 'starting';
  #stalled = false;
  #busy = false;

  private constructor(sdk: AgonesSDK, identity: AgonesIdentity, options: AgonesLifecycleOptions) {
    this.#sdk = sdk;
    this.identity = identity;
    this.#o = options;
  }

  /** Connects to the sidecar (30 s at most, the SDK's bound) and reads the GameServer's identity. */
  static async connect(options: AgonesLifecycleOptions): Promise<AgonesLifecycle> {
    const sdk = new AgonesSDK();
    try {
      await sdk.connect();
      const gs = await sdk.getGameServer();
      const ports = gs.status.portsList;
      const port = ports.find((p) => p.name === CLIENT_PORT_NAME) ?? ports[0];
      if (!gs.status.address || !port) {
        throw new Error('the GameServer has no address or port yet (status.address, status.ports)');
      }
      const host = gs.status.address.includes(':') ? `[${gs.status.address}]` : gs.status.address;
      const identity = { name: gs.objectMeta.name, endpoint: `ws://${host}:${port.port}${CLIENT_WS_PATH}` };
      options.logger.info(identity, 'agones: GameServer read');
      return new AgonesLifecycle(sdk, identity, options);
    } catch (err) {
      sdk.close();
      throw new Error(`agones: the SDK sidecar on port ${sdk.port} could not be used`, { cause: err });
    }
  }

  /** Starts the periodic check: health, then Ready / Allocated as the server's state changes. */
  start(probes: AgonesProbes): void {
    const run = () => {
      void this.#check(probes).finally(() => {
        if (this.#timer) this.#timer = setTimeout(run, this.#o.intervalMs);
      });
    };
    this.#timer = setTimeout(run, 0);
  }

  /** Stops health pings and tells Agones the server is done (the GameServer is deleted). */
  async shutdown(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    try {
      await this.#sdk.shutdown();
      this.#o.logger.info('agones: shutdown sent');
    } catch (err) {
      this.#o.logger.warn({ err }, 'agones: shutdown failed');
    } finally {
      this.#sdk.close();
    }
  }

  async #check(p: AgonesProbes): Promise<void> {
    const stalled = p.now() - p.lastTickAtMs() > this.#o.tickStallMs;
    if (stalled !== this.#stalled) {
      this.#stalled = stalled;
      if (stalled)
        this.#o.logger.error({ tickStallMs: this.#o.tickStallMs }, 'agones: tick stalled, health withheld');
      else this.#o.logger.info('agones: tick running again, health resumed');
    }
    if (!stalled) this.#sdk.health((err) => this.#o.logger.warn({ err }, 'agones: health ping failed'));
    // One state call at a time: a slow sidecar must not see Ready and Allocate reordered.
    if (this.#busy) return;
    this.#busy = true;
    try {
      if (this.#state === 'starting' && p.registered()) {
        await this.#sdk.ready();
        this.#state = 'ready';
        this.#o.logger.info('agones: Ready');
      }
      if (this.#state === 'ready' && p.hosting()) {
        await this.#sdk.allocate();
        this.#state = 'allocated';
        this.#o.logger.info('agones: Allocated (hosting)');
      } else if (this.#state === 'allocated' && !p.hosting() && p.registered()) {
        // Ready again: the Fleet may scale it down now, and an allocation may pick it.
        await this.#sdk.ready();
        this.#state = 'ready';
        this.#o.logger.info('agones: Ready again (hosting nothing)');
      }
    } catch (err) {
      this.#o.logger.warn({ err, state: this.#state }, 'agones: state change failed, retrying');
    } finally {
      this.#busy = false;
    }
  }
}
