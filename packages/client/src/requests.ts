import {
  AuthorityAction,
  type AuthorityActionCode,
  EntityLimits,
  encodeAuthority,
  encodeClientMessage,
  encodeDespawn,
  encodeSpawn,
  type JsonValue,
  type Props,
} from '@plexus/protocol';
import { PendingRequests, type RequestOutcome } from './connection/requests.ts';
import { PlexusError } from './errors.ts';
import type { SpawnInput } from './kinds.ts';

const IDENTITY = { x: 0, y: 0, z: 0, w: 1 } as const;
const utf8 = new TextEncoder();

/** What requests need of the rest of the handle. */
export interface RequestsPort {
  /** Sends one frame; false when no connection is open. */
  send(bytes: Uint8Array): boolean;
  /** Whether entity `id` is in the mirror. */
  has(id: number): boolean;
  /** The server granted authority over `id` / this client gave it up (see World). */
  granted(id: number): void;
  relinquish(id: number): void;
  tickIntervalMs(): number;
}

/**
 * The client's requests (docs/protocol.md §5.7): spawn, despawn and authority, each answered by one
 * RESULT, and custom messages. It learns of entities appearing through {@link entityAdded} (the
 * façade's `entityAdded` event).
 */
export class Requests {
  private readonly port: RequestsPort;
  private readonly pending: PendingRequests;
  /** Spawned entity ids awaited by `spawn()` until they appear in the mirror. */
  private readonly awaited = new Map<number, () => void>();

  constructor(port: RequestsPort, options: { resultTimeoutMs?: number; maxPendingRequests?: number }) {
    this.port = port;
    this.pending = new PendingRequests({
      ...(options.resultTimeoutMs !== undefined ? { timeoutMs: options.resultTimeoutMs } : {}),
      ...(options.maxPendingRequests !== undefined ? { maxPending: options.maxPendingRequests } : {}),
    });
  }

  /** Requests awaiting their RESULT. */
  get size(): number {
    return this.pending.size;
  }

  async spawn(input: SpawnInput): Promise<RequestOutcome> {
    const rotation = input.rotation ?? IDENTITY;
    const props = (input.props ?? {}) as Props;
    const outcome = await this.pending.open(`spawn of a ${input.kind}`, (rid) =>
      this.port.send(encodeSpawn(rid, input.kind, input.position, rotation, props)),
    );
    if (outcome.ok && !this.port.has(outcome.entityId)) await this.appearance(outcome.entityId);
    return outcome;
  }

  despawn(id: number): Promise<RequestOutcome> {
    return this.pending.open(`despawn of entity ${id}`, (rid) => this.port.send(encodeDespawn(rid, id)));
  }

  async authority(action: AuthorityActionCode, id: number, target = 0): Promise<RequestOutcome> {
    const outcome = await this.pending.open(`authority ${action} on entity ${id}`, (rid) =>
      this.port.send(encodeAuthority(rid, action, id, target)),
    );
    if (!outcome.ok) return outcome;
    // The owner update comes with the next tick; own it now so setEntity works at once.
    if (action === AuthorityAction.REQUEST) this.port.granted(id);
    else this.port.relinquish(id);
    return outcome;
  }

  sendMessage(type: string, payload: JsonValue): boolean {
    const typeBytes = utf8.encode(type).byteLength;
    if (typeBytes === 0 || typeBytes > EntityLimits.messageTypeBytes) {
      throw PlexusError.of(
        'COMMON_BAD_REQUEST',
        `A message type is 1–${EntityLimits.messageTypeBytes} bytes of UTF-8 (got ${typeBytes})`,
      );
    }
    const json = JSON.stringify(payload);
    if (json === undefined) throw PlexusError.of('COMMON_BAD_REQUEST', 'The payload is not JSON');
    const payloadBytes = utf8.encode(json).byteLength;
    if (payloadBytes > EntityLimits.messagePayloadBytes) {
      throw PlexusError.of(
        'COMMON_PAYLOAD_TOO_LARGE',
        `A message payload is at most ${EntityLimits.messagePayloadBytes} bytes of JSON (got ${payloadBytes})`,
      );
    }
    return this.port.send(encodeClientMessage(type, payload));
  }

  result(frame: { requestId: number; code: number; value: number; message: string }): void {
    this.pending.settle(frame);
  }

  entityAdded(id: number): void {
    this.awaited.get(id)?.();
  }

  /** The connection ended: requests in flight resolve with `error`. */
  close(error: PlexusError): void {
    this.pending.failAll(error);
    for (const resolve of [...this.awaited.values()]) resolve();
  }

  /** Resolves when entity `id` is in the mirror, or after a few ticks (it may be out of view). */
  private appearance(id: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.awaited.delete(id);
        resolve();
      };
      const timer = setTimeout(done, Math.max(500, this.port.tickIntervalMs() * 10));
      this.awaited.set(id, done);
    });
  }
}
