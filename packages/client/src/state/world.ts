import {
  encodeMove,
  encodeSetEntity,
  MOVE_ACK_VERSION,
  type Props,
  type RefusedMove,
  type StateFrame,
} from '@plexus/protocol';
import type { Linked } from '../connection/session.ts';
import type { Emitter } from '../emitter.ts';
import type { EntityChange, EntitySample } from '../kinds.ts';
import type { PlaygroundEvents } from '../playground-types.ts';
import { type Entity, EntityMirror, type LocalChange, type ServerState } from './entity-mirror.ts';
import { Interpolator, TickClock, type Transform } from './interpolation.ts';
import { Reconciler } from './reconciler.ts';

/** Longer gaps between a remote entity's samples than this many ticks are pauses, not motion. */
const HOLD_GAP_TICKS = 4.5;

/** How the world reaches the session: sending, and the barrier PING of a version-2 session. */
export interface Outbox {
  /** Sends one frame; false when no connection is open. */
  send(bytes: Uint8Array): boolean;
  /** Sends a PING and returns its ordinal on the current connection. */
  ping(): number;
}

/** Who the client is on the current connection (a new value per connection, never edited). */
interface Self {
  readonly clientId: number;
  readonly selfId: number;
  /** Moves carry a `seq` and MOVE_ACK settles them (docs/protocol.md §5.10). */
  readonly acks: boolean;
}

/**
 * The entities as the client sees them (docs/architecture.md, "The SDK"): the mirror of the
 * server's state, interpolation of the entities others move, and prediction of those this client
 * moves, reconciled with the server. It takes what the session received — a keyframe per
 * connection, STATE, MOVE_ACK, PONG, non-fatal ERRORs — and emits the façade's entity events.
 */
export class World {
  readonly mirror: EntityMirror;
  private readonly interpolator: Interpolator;
  private readonly reconciler: Reconciler;
  private readonly emitter: Emitter<PlaygroundEvents>;
  private readonly outbox: Outbox;
  private readonly now: () => number;
  private clock: TickClock;
  private frameTimeMs = 0;
  private self: Self;
  /** Entities released or transferred by this client whose owner update has not arrived yet. */
  private readonly relinquished = new Set<number>();

  constructor(
    linked: Linked,
    outbox: Outbox,
    emitter: Emitter<PlaygroundEvents>,
    options: { now: () => number; interpolationDelayMs?: number | undefined },
  ) {
    this.outbox = outbox;
    this.emitter = emitter;
    this.now = options.now;
    this.self = selfOf(linked);
    this.clock = new TickClock(linked.welcome.tickRateHz);
    this.interpolator = new Interpolator({ delayMs: options.interpolationDelayMs ?? 100 });
    this.mirror = new EntityMirror({
      entityAdded: (entity) => {
        this.record(entity);
        this.emitter.emit('entityAdded', entity);
      },
      entityChanged: (entity, changed) => {
        if (
          !this.mirror.isPredicted(entity.id) &&
          (changed.includes('position') || changed.includes('rotation'))
        ) {
          this.record(entity);
        }
        this.emitter.emit('entityChanged', entity, changed);
      },
      entityRemoved: (entity) => {
        this.interpolator.delete(entity.id);
        this.reconciler.forget(entity.id);
        this.relinquished.delete(entity.id);
        this.emitter.emit('entityRemoved', entity);
      },
      ownerChanged: (entity, previousOwner) => this.ownerChanged(entity, previousOwner),
      serverUpdated: (entity, server) => this.reconciler.judge(entity, server),
    });
    this.reconciler = new Reconciler(this.mirror, {
      ping: () => this.outbox.ping(),
      corrected: (entity) => this.emitter.emit('corrected', entity),
      tickIntervalMs: () => this.clock.intervalMs,
    });
  }

  get tickIntervalMs(): number {
    return this.clock.intervalMs;
  }

  // ------------------------------------------------------------ from the session

  /** A connection was adopted: its ids, a new timeline for its ticks, and its keyframe. */
  linked(linked: Linked): void {
    this.self = selfOf(linked);
    this.relinquished.clear();
    // The new server's ticks are unrelated to the old one's: start a new timeline.
    this.clock = new TickClock(linked.welcome.tickRateHz);
    this.interpolator.clear();
    this.reconciler.linked();
    this.frameTimeMs = this.clock.timeOf(linked.keyframe.tick, this.now());
    this.mirror.resync(linked.keyframe);
    this.reconciler.afterState();
  }

  state(frame: StateFrame): void {
    this.frameTimeMs = this.clock.timeOf(frame.tick, this.now());
    this.mirror.apply(frame);
    this.reconciler.afterState();
  }

  moveAck(lastAppliedSeq: number, refused: readonly RefusedMove[]): void {
    this.reconciler.moveAck(lastAppliedSeq, refused);
  }

  pong(): void {
    this.reconciler.pong();
  }

  /** A non-fatal ERROR: on a version-2 session some change may have been refused (a barrier). */
  refusal(): void {
    if (!this.self.acks) this.reconciler.barrier();
  }

  /** The connection ended: its predictions end with it. */
  unlinked(): void {
    this.reconciler.clear();
  }

  /** The session ended for good. */
  ended(): void {
    this.interpolator.clear();
  }

  // ------------------------------------------------------------ from the façade

  /** True when this client may change entity `id` (its avatar, or an entity it owns). */
  owns(id: number): boolean {
    const entity = this.mirror.entities.get(id);
    if (!entity || this.relinquished.has(id)) return false;
    return id === this.self.selfId || entity.owner === this.self.clientId;
  }

  /** Applies a change locally at once (prediction) and sends it; see `Playground.setEntity`. */
  setEntity(id: number, change: EntityChange): boolean {
    const { mirror } = this;
    if (!this.owns(id)) return false;
    if (!change.position && !change.rotation && !change.props) return false;
    if (!mirror.isPredicted(id)) {
      mirror.predict(id);
      this.reconciler.start(id, mirror.serverStateOf(id) as ServerState);
      this.interpolator.delete(id);
    }
    const local: LocalChange = {};
    if (change.position) local.position = change.position;
    if (change.rotation) local.rotation = change.rotation;
    if (change.props) local.props = change.props as Props;
    const entity = mirror.setLocal(id, local) as Entity;
    const transform = change.position !== undefined || change.rotation !== undefined;
    const seq =
      this.self.acks && transform ? this.reconciler.nextSeq(id, change.props !== undefined) : undefined;
    const bytes =
      id === this.self.selfId && !change.props
        ? encodeMove(id, entity.position, entity.rotation, seq)
        : encodeSetEntity(id, local, seq);
    this.reconciler.sent(id, entity, change.props !== undefined);
    return this.outbox.send(bytes);
  }

  /** The server granted this client authority over `id` (its owner update follows with a tick). */
  granted(id: number): void {
    this.relinquished.delete(id);
    this.mirror.setOwner(id, this.self.clientId);
  }

  /** This client released or transferred `id`: it stays predicted until the owner update. */
  relinquish(id: number): void {
    if (this.mirror.entities.get(id)?.owner === this.self.clientId) this.relinquished.add(id);
  }

  /** See `Playground.sample`. */
  sample(renderTimeMs: number): EntitySample[] {
    const out: EntitySample[] = [];
    for (const entity of this.mirror.entities.values()) {
      const t = this.sampleTransform(entity.id, renderTimeMs) as Transform;
      out.push({
        id: entity.id,
        kind: entity.kind,
        owner: entity.owner,
        props: entity.props,
        position: t.position,
        rotation: t.rotation,
        predicted: this.mirror.isPredicted(entity.id),
      });
    }
    return out;
  }

  /** See `Playground.sampleTransform`. */
  sampleTransform(id: number, renderTimeMs: number): Transform | undefined {
    const entity = this.mirror.entities.get(id);
    if (!entity) return undefined;
    if (!this.mirror.isPredicted(id)) {
      const sampled = this.interpolator.sample(id, renderTimeMs);
      if (sampled) return sampled;
    }
    return { position: { ...entity.position }, rotation: { ...entity.rotation } };
  }

  // ------------------------------------------------------------ internals

  private ownerChanged(entity: Entity, previousOwner: number): void {
    const { mirror, interpolator } = this;
    this.relinquished.delete(entity.id);
    if (
      entity.owner !== this.self.clientId &&
      entity.id !== this.self.selfId &&
      mirror.isPredicted(entity.id)
    ) {
      // Someone else (or the server) moves it from now on: glide from where we drew it to the
      // server's state instead of jumping.
      interpolator.delete(entity.id);
      interpolator.record(entity.id, this.now() - interpolator.delayMs, {
        position: entity.position,
        rotation: entity.rotation,
      });
      mirror.unpredict(entity.id);
      this.reconciler.forget(entity.id);
      this.record(entity);
    }
    this.emitter.emit('authorityChanged', entity, previousOwner, entity.owner);
  }

  private record(entity: Entity): void {
    // A far entity comes only every few ticks (docs/protocol.md §4.2, up to the default window of
    // 4): a gap up to that is motion to glide over, a longer one a pause to hold through.
    this.interpolator.record(entity.id, this.frameTimeMs, entity, this.clock.intervalMs * HOLD_GAP_TICKS);
  }
}

function selfOf(linked: Linked): Self {
  return {
    clientId: linked.welcome.clientId,
    selfId: linked.welcome.selfId,
    acks: linked.protocolVersion >= MOVE_ACK_VERSION,
  };
}
