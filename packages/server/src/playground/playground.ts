import type { EntityState, EntityUpdate, Props, Quat, Vec3 } from '@plexus/protocol';

/** Bits of an entity's pending changes (mirrors the wire's update field mask). */
const CHANGED_POSITION = 1;
const CHANGED_ROTATION = 2;
const CHANGED_PROPS = 4;
const CHANGED_OWNER = 8;

export interface Entity extends EntityState {
  /** Fields changed since the last delta. */
  changed: number;
}

export interface NewEntity {
  owner: number;
  kind: string;
  position: Vec3;
  rotation: Quat;
  props: Props;
}

/** What changed in a playground since the previous delta. */
export interface Changes {
  spawns: EntityState[];
  updates: EntityUpdate[];
  removes: number[];
}

/**
 * One simulation context: the entities of a playground and what changed since the last tick. Pure
 * state: no sockets, no timers. The host drives it once per tick (apply moves, then `takeChanges`).
 */
export class Playground {
  readonly id: string;
  private readonly entities = new Map<number, Entity>();
  private nextEntityId = 1;
  /** Entities created since the last delta (sent whole as spawns). */
  private readonly spawned = new Set<number>();
  private readonly dirty = new Set<number>();
  private readonly removed: number[] = [];
  private changeCount = 0;

  constructor(id: string) {
    this.id = id;
  }

  get entityCount(): number {
    return this.entities.size;
  }

  /** Counts every change (spawn, remove, transform, owner, props): checkpoints skip a quiet playground. */
  get revision(): number {
    return this.changeCount;
  }

  /** The id the next spawned entity gets. */
  get nextId(): number {
    return this.nextEntityId;
  }

  get(id: number): Entity | undefined {
    return this.entities.get(id);
  }

  spawn(e: NewEntity): Entity {
    const id = this.nextEntityId++;
    const entity: Entity = {
      id,
      owner: e.owner,
      kind: e.kind,
      position: { ...e.position },
      rotation: { ...e.rotation },
      props: e.props,
      changed: 0,
    };
    this.entities.set(id, entity);
    this.spawned.add(id);
    this.changeCount++;
    return entity;
  }

  /**
   * Puts back an entity of a checkpoint under its own id (a restore on another server); false when
   * the id is taken. Later spawns get ids above every restored one.
   */
  restore(e: NewEntity & { id: number }): boolean {
    if (!Number.isSafeInteger(e.id) || e.id < 1 || this.entities.has(e.id)) return false;
    this.entities.set(e.id, {
      id: e.id,
      owner: e.owner,
      kind: e.kind,
      position: { ...e.position },
      rotation: { ...e.rotation },
      props: e.props,
      changed: 0,
    });
    this.spawned.add(e.id);
    this.nextEntityId = Math.max(this.nextEntityId, e.id + 1);
    this.changeCount++;
    return true;
  }

  /** Raises the next entity id (never lowers it): ids of a checkpointed playground are not reused. */
  reserveIdsBelow(next: number): void {
    if (Number.isSafeInteger(next)) this.nextEntityId = Math.max(this.nextEntityId, next);
  }

  remove(id: number): boolean {
    if (!this.entities.delete(id)) return false;
    this.changeCount++;
    this.dirty.delete(id);
    // An entity born and gone within one tick was never seen by anyone: it leaves no trace.
    if (!this.spawned.delete(id)) this.removed.push(id);
    return true;
  }

  /** Sets an entity's transform; only fields that really change are marked for the next delta. */
  setTransform(id: number, position: Vec3, rotation: Quat): boolean {
    const e = this.entities.get(id);
    if (!e) return false;
    const p = e.position;
    let changed = false;
    if (p.x !== position.x || p.y !== position.y || p.z !== position.z) {
      e.position = { x: position.x, y: position.y, z: position.z };
      e.changed |= CHANGED_POSITION;
      changed = true;
    }
    const r = e.rotation;
    if (r.x !== rotation.x || r.y !== rotation.y || r.z !== rotation.z || r.w !== rotation.w) {
      e.rotation = { x: rotation.x, y: rotation.y, z: rotation.z, w: rotation.w };
      e.changed |= CHANGED_ROTATION;
      changed = true;
    }
    if (changed) {
      this.changeCount++;
      if (!this.spawned.has(id)) this.dirty.add(id);
    }
    return true;
  }

  /** Changes an entity's authority (0 = the server); replicated as an update with `owner`. */
  setOwner(id: number, owner: number): boolean {
    const e = this.entities.get(id);
    if (!e) return false;
    if (e.owner === owner) return true;
    e.owner = owner;
    this.changeCount++;
    e.changed |= CHANGED_OWNER;
    if (!this.spawned.has(id)) this.dirty.add(id);
    return true;
  }

  /** Every live entity (read-only use: mutate through the setters so changes are replicated). */
  all(): IterableIterator<Entity> {
    return this.entities.values();
  }

  setProps(id: number, props: Props): boolean {
    const e = this.entities.get(id);
    if (!e) return false;
    e.props = props;
    this.changeCount++;
    e.changed |= CHANGED_PROPS;
    if (!this.spawned.has(id)) this.dirty.add(id);
    return true;
  }

  hasChanges(): boolean {
    return this.spawned.size > 0 || this.dirty.size > 0 || this.removed.length > 0;
  }

  /**
   * The entities created since the last `takeChanges`, handed over early (a keyframe between ticks
   * shows them, docs/protocol.md §5.1): from now on they are tracked like any entity, so what changes
   * before the next `takeChanges` comes out as updates, and a removal as a remove.
   */
  takeSpawns(): Entity[] {
    const out: Entity[] = [];
    for (const id of this.spawned) {
      const e = this.entities.get(id);
      if (!e) continue;
      e.changed = 0;
      out.push(e);
    }
    this.spawned.clear();
    return out;
  }

  /** Everything that changed since the previous call, then forgets it. Null when nothing did. */
  takeChanges(): Changes | null {
    if (!this.hasChanges()) return null;
    const spawns: EntityState[] = [];
    for (const id of this.spawned) {
      const e = this.entities.get(id);
      if (e) {
        e.changed = 0;
        spawns.push(toState(e));
      }
    }
    const updates: EntityUpdate[] = [];
    for (const id of this.dirty) {
      const e = this.entities.get(id);
      if (!e || e.changed === 0) continue;
      const u: EntityUpdate = { id };
      if (e.changed & CHANGED_POSITION) u.position = e.position;
      if (e.changed & CHANGED_ROTATION) u.rotation = e.rotation;
      if (e.changed & CHANGED_PROPS) u.props = e.props;
      if (e.changed & CHANGED_OWNER) u.owner = e.owner;
      e.changed = 0;
      updates.push(u);
    }
    const removes = this.removed.slice();
    this.spawned.clear();
    this.dirty.clear();
    this.removed.length = 0;
    return { spawns, updates, removes };
  }
}

function toState(e: Entity): EntityState {
  return {
    id: e.id,
    owner: e.owner,
    kind: e.kind,
    position: e.position,
    rotation: e.rotation,
    props: e.props,
  };
}
