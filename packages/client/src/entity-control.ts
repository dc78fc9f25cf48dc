import {
  AuthorityAction,
  type AuthorityActionCode,
  EntityLimits,
  encodeAuthority,
  encodeClientMessage,
  encodeDespawn,
  encodeMove,
  encodeSetEntity,
  encodeSpawn,
  type JsonValue,
  MOVE_ACK_VERSION,
  type Props,
  type RefusedMove,
} from '@plexus/protocol';
import { PendingRequests, type RequestOutcome } from './connection/requests.ts';
import type { Emitter } from './emitter.ts';
import { PlexusError } from './errors.ts';
import type { EntityChange, SpawnInput } from './kinds.ts';
import type { PlaygroundEvents } from './playground-types.ts';
import type { Entity, EntityMirror, LocalChange, ServerState } from './state/entity-mirror.ts';
import type { Interpolator } from './state/interpolation.ts';
import { type Mark, Predictor } from './state/prediction.ts';

const IDENTITY = { x: 0, y: 0, z: 0, w: 1 } as const;
const utf8 = new TextEncoder();

/** What {@link EntityControl} needs from its playground. */
export interface EntityControlDeps {
  clientId: number;
  selfId: number;
  tickIntervalMs: number;
  /** The session's protocol version (Link.protocolVersion): from 3 on, moves are acknowledged. */
  protocolVersion: number;
  mirror: EntityMirror;
  interpolator: Interpolator;
  emitter: Emitter<PlaygroundEvents>;
  now: () => number;
  /** Sends one frame; false when the connection is not open. */
  send: (bytes: Uint8Array) => boolean;
  /** Sends a PING and returns its ordinal (PONGs come back in order). */
  ping: () => number;
  /** Records an entity's current transform in the interpolator (at the last frame's time). */
  record: (entity: Entity) => void;
  resultTimeoutMs?: number;
  maxPendingRequests?: number;
}

/** A change with a transform sent on a v3 session and not yet acknowledged. */
interface PendingMove {
  seq: number;
  /** It also carried props (a refusal then reverts those too). */
  props: boolean;
}

/** Bound of unacknowledged moves kept per entity (the oldest go first). */
const MAX_PENDING_MOVES = 64;

interface Barrier {
  /** Ordinal of the PING whose PONG means the server has processed everything sent before it. */
  pingOrdinal: number;
  marks: Map<number, Mark>;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Entities the client changes, and requests: spawn/despawn/authority with their RESULT frames,
 * custom messages, and the prediction of owned entities with reconciliation.
 *
 * Reconciliation without acknowledgements: the server refuses a bad change with a non-fatal ERROR
 * frame that does not say which entity it was about, and accepts good ones silently. After such an
 * error the client sends a PING as a barrier: frames are processed in order, so once its PONG is
 * in, the next STATE frame (or, when nothing changed, the lack of one for a few ticks) reflects
 * every change sent before it. Each predicted entity whose server state is then behind what was
 * sent before the barrier is snapped back ({@link PlaygroundEvents.corrected}); one whose change
 * was accepted is left alone, so a legal move never snaps. That is how a version-2 session works.
 *
 * From protocol version 3 on (docs/protocol.md §5.10) each change with a transform carries a
 * sequence number and the server acknowledges them with MOVE_ACK: pending moves up to the last
 * applied one are dropped, and an entity whose move the ack names as refused snaps back to the
 * server's state at once — no barrier, no timer.
 */
export class EntityControl {
  private readonly d: EntityControlDeps;
  private readonly requests: PendingRequests;
  private readonly predictor = new Predictor();
  /** Entities released or transferred by this client whose owner update has not arrived yet. */
  private readonly relinquished = new Set<number>();
  /** Spawned entity ids awaited by `spawn()` until they appear in the mirror. */
  private readonly awaited = new Map<number, () => void>();
  private barrier: Barrier | undefined;
  private armed: Barrier | undefined;
  private pongs = 0;
  /** v3: the last move sequence number sent, and the unacknowledged moves per entity. */
  private moveSeq = 0;
  private readonly pendingMoves = new Map<number, PendingMove[]>();

  constructor(deps: EntityControlDeps) {
    this.d = deps;
    this.requests = new PendingRequests({
      ...(deps.resultTimeoutMs !== undefined ? { timeoutMs: deps.resultTimeoutMs } : {}),
      ...(deps.maxPendingRequests !== undefined ? { maxPending: deps.maxPendingRequests } : {}),
    });
  }

  /** Requests awaiting their RESULT. */
  get pendingRequests(): number {
    return this.requests.size;
  }

  /** True when this client may change entity `id` (its avatar, or an entity it owns). */
  owns(id: number): boolean {
    const entity = this.d.mirror.entities.get(id);
    if (!entity || this.relinquished.has(id)) return false;
    return id === this.d.selfId || entity.owner === this.d.clientId;
  }

  setEntity(id: number, change: EntityChange): boolean {
    const { mirror } = this.d;
    if (!this.owns(id)) return false;
    if (!change.position && !change.rotation && !change.props) return false;
    if (!mirror.isPredicted(id)) {
      mirror.predict(id);
      this.predictor.start(id, mirror.serverStateOf(id) as ServerState);
      this.d.interpolator.delete(id);
    }
    const local: LocalChange = {};
    if (change.position) local.position = change.position;
    if (change.rotation) local.rotation = change.rotation;
    if (change.props) local.props = change.props as Props;
    const entity = mirror.setLocal(id, local) as Entity;
    const seq = this.nextSeq(id, change);
    const bytes =
      id === this.d.selfId && !change.props
        ? encodeMove(id, entity.position, entity.rotation, seq)
        : encodeSetEntity(id, local, seq);
    this.predictor.sent(id, entity, change.props !== undefined);
    return this.d.send(bytes);
  }

  async spawn(input: SpawnInput): Promise<RequestOutcome> {
    const rotation = input.rotation ?? IDENTITY;
    const props = (input.props ?? {}) as Props;
    const outcome = await this.requests.open(`spawn of a ${input.kind}`, (rid) =>
      this.d.send(encodeSpawn(rid, input.kind, input.position, rotation, props)),
    );
    if (outcome.ok && !this.d.mirror.entities.has(outcome.entityId)) await this.appearance(outcome.entityId);
    return outcome;
  }

  despawn(id: number): Promise<RequestOutcome> {
    return this.requests.open(`despawn of entity ${id}`, (rid) => this.d.send(encodeDespawn(rid, id)));
  }

  async authority(action: AuthorityActionCode, id: number, target = 0): Promise<RequestOutcome> {
    const outcome = await this.requests.open(`authority ${action} on entity ${id}`, (rid) =>
      this.d.send(encodeAuthority(rid, action, id, target)),
    );
    if (!outcome.ok) return outcome;
    if (action === AuthorityAction.REQUEST) {
      // The owner update comes with the next tick; own it now so setEntity works at once.
      this.relinquished.delete(id);
      this.d.mirror.setOwner(id, this.d.clientId);
    } else if (this.d.mirror.entities.get(id)?.owner === this.d.clientId) {
      // Stays predicted until the owner update: that STATE also carries the last accepted state.
      this.relinquished.add(id);
    }
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
    return this.d.send(encodeClientMessage(type, payload));
  }

  // ------------------------------------------------------------ inputs from the playground

  onResult(frame: { requestId: number; code: number; value: number; message: string }): void {
    this.requests.settle(frame);
  }

  /**
   * A non-fatal ERROR frame: some change may have been refused; verify the predictions (v2). A v3
   * session waits for the MOVE_ACK that names the refused move instead.
   */
  onRefusal(): void {
    if (this.acks || this.barrier || this.predictor.marks().size === 0) return;
    this.barrier = { pingOrdinal: this.d.ping(), marks: this.predictor.marks() };
  }

  onPong(): void {
    this.pongs++;
    const barrier = this.barrier;
    if (!barrier || this.pongs < barrier.pingOrdinal) return;
    this.barrier = undefined;
    if (this.armed) this.settle(this.armed);
    this.armed = barrier;
    // No STATE frame means nothing changed in the tick: the server state we hold is the verdict.
    barrier.timer = setTimeout(() => this.settle(barrier), this.d.tickIntervalMs * 2.5);
  }

  /**
   * MOVE_ACK (v3): refused moves snap their entity back to the server's state (it comes after the
   * tick's STATE, so that state is the verdict); every move up to `lastAppliedSeq` is settled.
   */
  onMoveAck(lastAppliedSeq: number, refused: readonly RefusedMove[]): void {
    for (const move of refused) {
      const pending = this.pendingMoves.get(move.entityId);
      const sent = pending?.find((p) => p.seq === move.seq);
      if (!sent) continue; // already snapped back, or no longer predicted
      this.pendingMoves.delete(move.entityId);
      const { mirror } = this.d;
      const entity = mirror.entities.get(move.entityId);
      const server = mirror.serverStateOf(move.entityId);
      if (!entity || !server) continue;
      const carriedProps = sent.props || (pending as PendingMove[]).some((p) => p.props);
      mirror.reconcile(move.entityId, carriedProps ? 'all' : 'transform');
      this.predictor.start(move.entityId, server);
      this.d.emitter.emit('corrected', entity);
    }
    for (const [id, pending] of this.pendingMoves) {
      const left = pending.filter((p) => p.seq > lastAppliedSeq);
      if (left.length === 0) this.pendingMoves.delete(id);
      else this.pendingMoves.set(id, left);
    }
  }

  /** After each STATE frame. */
  afterState(): void {
    if (this.armed) this.settle(this.armed);
  }

  entityAdded(entity: Entity): void {
    const resolve = this.awaited.get(entity.id);
    if (resolve) resolve();
  }

  entityRemoved(entity: Entity): void {
    this.predictor.forget(entity.id);
    this.pendingMoves.delete(entity.id);
    this.relinquished.delete(entity.id);
  }

  /** The server sent new state for a predicted entity: keep the prediction unless it disagrees. */
  serverUpdated(entity: Entity, server: ServerState): void {
    this.judge(entity, server);
  }

  ownerChanged(entity: Entity, previousOwner: number): void {
    const { mirror, interpolator, clientId } = this.d;
    this.relinquished.delete(entity.id);
    if (entity.owner !== clientId && entity.id !== this.d.selfId && mirror.isPredicted(entity.id)) {
      // Someone else (or the server) moves it from now on: glide from where we drew it to the
      // server's state instead of jumping.
      interpolator.delete(entity.id);
      interpolator.record(entity.id, this.d.now() - interpolator.delayMs, {
        position: entity.position,
        rotation: entity.rotation,
      });
      mirror.unpredict(entity.id);
      this.predictor.forget(entity.id);
      this.pendingMoves.delete(entity.id);
      this.d.record(entity);
    }
    this.d.emitter.emit('authorityChanged', entity, previousOwner, entity.owner);
  }

  /**
   * A new connection took over (a resume): the ids it welcomed the client with, its tick interval,
   * and a fresh PING count. Requests and predictions of the old connection ended with {@link close}.
   */
  rebind(clientId: number, selfId: number, tickIntervalMs: number, protocolVersion: number): void {
    this.d.clientId = clientId;
    this.d.selfId = selfId;
    this.d.tickIntervalMs = tickIntervalMs;
    this.d.protocolVersion = protocolVersion;
    this.pongs = 0;
    this.moveSeq = 0;
    this.relinquished.clear();
  }

  close(error: PlexusError): void {
    this.requests.failAll(error);
    for (const resolve of [...this.awaited.values()]) resolve();
    if (this.armed?.timer) clearTimeout(this.armed.timer);
    this.armed = undefined;
    this.barrier = undefined;
    this.predictor.clear();
    this.pendingMoves.clear();
  }

  // ------------------------------------------------------------ internals

  private get acks(): boolean {
    return this.d.protocolVersion >= MOVE_ACK_VERSION;
  }

  /** v3: the sequence number of a change with a transform, recorded as pending; else undefined. */
  private nextSeq(id: number, change: EntityChange): number | undefined {
    if (!this.acks || (!change.position && !change.rotation)) return undefined;
    const seq = ++this.moveSeq;
    const pending = this.pendingMoves.get(id) ?? [];
    pending.push({ seq, props: change.props !== undefined });
    if (pending.length > MAX_PENDING_MOVES) pending.shift();
    this.pendingMoves.set(id, pending);
    return seq;
  }

  private settle(barrier: Barrier): void {
    if (this.armed !== barrier) return;
    this.armed = undefined;
    clearTimeout(barrier.timer);
    const { mirror } = this.d;
    for (const [id, mark] of barrier.marks) {
      const entity = mirror.entities.get(id);
      const server = mirror.serverStateOf(id);
      if (entity && server) this.judge(entity, server, mark);
    }
  }

  private judge(entity: Entity, server: ServerState, since?: Mark): void {
    const agreement = this.predictor.check(entity.id, server, since);
    if (agreement.transform && agreement.props) return;
    const what =
      !agreement.transform && !agreement.props ? 'all' : agreement.transform ? 'props' : 'transform';
    this.d.mirror.reconcile(entity.id, what);
    this.d.emitter.emit('corrected', entity);
  }

  /** Resolves when entity `id` is in the mirror, or after a few ticks (it may be out of view). */
  private appearance(id: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.awaited.delete(id);
        resolve();
      };
      const timer = setTimeout(done, Math.max(500, this.d.tickIntervalMs * 10));
      this.awaited.set(id, done);
    });
  }
}
