import type { Props, Quat, RefusedMove, Vec3 } from '@plexus/protocol';
import type { Entity, EntityMirror, ServerState } from './entity-mirror.ts';
import { type Mark, Predictor } from './prediction.ts';

/** What reconciliation needs besides the mirror. */
export interface ReconcilerPort {
  /** Sends a PING and returns its ordinal (a version-2 barrier). */
  ping(): number;
  /** A predicted entity was put back to the server's state. */
  corrected(entity: Entity): void;
  tickIntervalMs(): number;
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
 * Reconciles the entities this client predicts with the server (docs/protocol.md §5.10).
 *
 * Every server state of a predicted entity is judged: one the client sent at some point (the server
 * is merely behind) agrees; anything else is the server disagreeing, and the entity snaps to it
 * (`corrected`) — so an accepted change never snaps.
 *
 * Version 3: each change with a transform carries a sequence number; MOVE_ACK drops the pending
 * moves up to the last applied one and names the refused ones, whose entity snaps back at once.
 *
 * Version 2, without acknowledgements: the server refuses a bad change with a non-fatal ERROR frame
 * that names no entity. After one the client sends a PING as a barrier: frames are processed in
 * order, so once its PONG is in, the next STATE frame (or, when nothing changed, the lack of one
 * for a few ticks) reflects every change sent before it, and a predicted entity whose server state
 * is then behind what was sent before the barrier snaps back.
 */
export class Reconciler {
  private readonly mirror: EntityMirror;
  private readonly port: ReconcilerPort;
  private readonly predictor = new Predictor();
  private readonly pendingMoves = new Map<number, PendingMove[]>();
  private moveSeq = 0;
  private waiting: Barrier | undefined;
  private armed: Barrier | undefined;
  private pongs = 0;

  constructor(mirror: EntityMirror, port: ReconcilerPort) {
    this.mirror = mirror;
    this.port = port;
  }

  /** Starts predicting `id` from the server state it has now. */
  start(id: number, base: ServerState): void {
    this.predictor.start(id, base);
  }

  /** v3: the sequence number of the next change with a transform of `id`, kept as pending. */
  nextSeq(id: number, props: boolean): number {
    const seq = ++this.moveSeq;
    const pending = this.pendingMoves.get(id) ?? [];
    pending.push({ seq, props });
    if (pending.length > MAX_PENDING_MOVES) pending.shift();
    this.pendingMoves.set(id, pending);
    return seq;
  }

  /** Records the entity's whole local state after a change was sent. */
  sent(id: number, state: { position: Vec3; rotation: Quat; props: Props }, props: boolean): void {
    this.predictor.sent(id, state, props);
  }

  /** The server sent new state for a predicted entity: keep the prediction unless it disagrees. */
  judge(entity: Entity, server: ServerState, since?: Mark): void {
    const agreement = this.predictor.check(entity.id, server, since);
    if (agreement.transform && agreement.props) return;
    const what =
      !agreement.transform && !agreement.props ? 'all' : agreement.transform ? 'props' : 'transform';
    this.mirror.reconcile(entity.id, what);
    this.port.corrected(entity);
  }

  /** v3 MOVE_ACK: after the tick's STATE, so the server state held is the verdict. */
  moveAck(lastAppliedSeq: number, refused: readonly RefusedMove[]): void {
    for (const move of refused) {
      const pending = this.pendingMoves.get(move.entityId);
      if (!pending?.some((p) => p.seq === move.seq)) continue; // snapped already, or not predicted
      this.pendingMoves.delete(move.entityId);
      const entity = this.mirror.entities.get(move.entityId);
      const server = this.mirror.serverStateOf(move.entityId);
      if (!entity || !server) continue;
      this.mirror.reconcile(move.entityId, pending.some((p) => p.props) ? 'all' : 'transform');
      this.predictor.start(move.entityId, server);
      this.port.corrected(entity);
    }
    for (const [id, pending] of this.pendingMoves) {
      const left = pending.filter((p) => p.seq > lastAppliedSeq);
      if (left.length === 0) this.pendingMoves.delete(id);
      else this.pendingMoves.set(id, left);
    }
  }

  /** v2: a non-fatal ERROR — some change may have been refused; verify the predictions. */
  barrier(): void {
    if (this.waiting || this.predictor.marks().size === 0) return;
    this.waiting = { pingOrdinal: this.port.ping(), marks: this.predictor.marks() };
  }

  pong(): void {
    this.pongs++;
    const barrier = this.waiting;
    if (!barrier || this.pongs < barrier.pingOrdinal) return;
    this.waiting = undefined;
    if (this.armed) this.settle(this.armed);
    this.armed = barrier;
    // No STATE frame means nothing changed in the tick: the server state we hold is the verdict.
    barrier.timer = setTimeout(() => this.settle(barrier), this.port.tickIntervalMs() * 2.5);
  }

  /** After each STATE frame. */
  afterState(): void {
    if (this.armed) this.settle(this.armed);
  }

  /** Stops predicting `id`. */
  forget(id: number): void {
    this.predictor.forget(id);
    this.pendingMoves.delete(id);
  }

  /** A new connection: its PINGs and sequence numbers count from the start. */
  linked(): void {
    this.pongs = 0;
    this.moveSeq = 0;
  }

  /** The connection ended: what was predicted on it is over. */
  clear(): void {
    if (this.armed?.timer) clearTimeout(this.armed.timer);
    this.armed = undefined;
    this.waiting = undefined;
    this.predictor.clear();
    this.pendingMoves.clear();
  }

  private settle(barrier: Barrier): void {
    if (this.armed !== barrier) return;
    this.armed = undefined;
    clearTimeout(barrier.timer);
    for (const [id, mark] of barrier.marks) {
      const entity = this.mirror.entities.get(id);
      const server = this.mirror.serverStateOf(id);
      if (entity && server) this.judge(entity, server, mark);
    }
  }
}
