import type { Quat, Vec3 } from '@plexus/protocol';

/** One entity's queued move, in a slot the queue owns: the next move of the entity overwrites it. */
export interface QueuedMove {
  entityId: number;
  readonly position: Vec3;
  readonly rotation: Quat;
  /** Its sequence number on a v3 session (docs/protocol.md §5.10). */
  seq: number | undefined;
}

/**
 * A member's latest accepted move per entity, applied at the next tick: a later move of an entity
 * replaces its earlier one in place (docs/protocol.md §5.2, the last wins). Slots live from tick to
 * tick and moves are copied into them, so the ~20 MOVEs a second of a moving client allocate
 * nothing here and may arrive in a frame the connection reuses; the few entities a client moves are
 * found by a scan, not a Map.
 */
export class MoveQueue {
  private readonly slots: QueuedMove[] = [];
  private count = 0;
  private readonly capacity: number;

  /** At most `capacity` entities have a queued move. */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.count;
  }

  /** The queued move of `entityId`, if any (valid until the queue is cleared). */
  get(entityId: number): QueuedMove | undefined {
    for (let i = 0; i < this.count; i++) {
      const slot = this.slots[i] as QueuedMove;
      if (slot.entityId === entityId) return slot;
    }
    return undefined;
  }

  /** Queues a copy of the move; false when `capacity` other entities already have one. */
  put(entityId: number, position: Vec3, rotation: Quat, seq: number | undefined): boolean {
    let slot = this.get(entityId);
    if (!slot) {
      if (this.count >= this.capacity) return false;
      slot = this.slots[this.count] ?? this.grow();
      slot.entityId = entityId;
      this.count++;
    }
    const p = slot.position;
    p.x = position.x;
    p.y = position.y;
    p.z = position.z;
    const r = slot.rotation;
    r.x = rotation.x;
    r.y = rotation.y;
    r.z = rotation.z;
    r.w = rotation.w;
    slot.seq = seq;
    return true;
  }

  /** The `i`-th queued move (0 ≤ i < size), in the order their entities were first queued. */
  at(i: number): QueuedMove {
    return this.slots[i] as QueuedMove;
  }

  /** Empties the queue; its slots stay for the next tick's moves. */
  clear(): void {
    this.count = 0;
  }

  private grow(): QueuedMove {
    const slot: QueuedMove = {
      entityId: 0,
      position: { x: 0, y: 0, z: 0 },
      rotation: { x: 0, y: 0, z: 0, w: 1 },
      seq: undefined,
    };
    this.slots.push(slot);
    return slot;
  }
}
