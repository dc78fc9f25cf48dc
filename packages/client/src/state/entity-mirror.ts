import type { EntityState, EntityUpdate, Quat, StateFrame, Vec3 } from '@plexus/protocol';

/** An entity as mirrored by the client: a plain object, replaced field by field by STATE frames. */
export type Entity = EntityState;

/** A field of an entity that a STATE frame can change. */
export type EntityField = 'position' | 'rotation' | 'props';

/** Receives the effects of applying STATE frames. */
export interface MirrorObserver {
  entityAdded?(entity: Entity): void;
  entityChanged?(entity: Entity, changed: readonly EntityField[]): void;
  entityRemoved?(entity: Entity): void;
}

/**
 * The client's copy of the entities it can see, kept up to date from decoded STATE frames.
 *
 * - keyframe: the listed entities are all there is; others are removed, new ones added, known ones
 *   replaced (changed when a field differs);
 * - delta: spawns are added, updates merge the fields they carry (`props` is replaced as a whole),
 *   removes are removed. Updates and removes of unknown ids are ignored.
 *
 * One entity may be *predicted* (the client's own avatar after it started moving it): its transform
 * is owned locally and server transforms for it are only remembered (see {@link serverTransformOf})
 * so that a correction can be applied with {@link reconcile}.
 */
export class EntityMirror {
  /** Current entities by id. Treat as read-only: the mirror mutates the objects in place. */
  readonly entities = new Map<number, Entity>();
  private readonly observer: MirrorObserver;
  private predictedId: number | undefined;
  private serverTransform: { position: Vec3; rotation: Quat } | undefined;
  /** Tick of the last applied frame (-1 before any). */
  lastTick = -1;

  constructor(observer: MirrorObserver = {}) {
    this.observer = observer;
  }

  /** Applies one decoded STATE frame and notifies the observer. */
  apply(frame: StateFrame): void {
    this.lastTick = frame.tick;
    if (frame.keyframe) {
      const listed = new Set<number>();
      for (const spawn of frame.spawns) listed.add(spawn.id);
      for (const [id, entity] of [...this.entities]) {
        if (!listed.has(id)) this.remove(id, entity);
      }
    }
    for (const spawn of frame.spawns) this.spawn(spawn);
    for (const update of frame.updates) this.update(update);
    for (const id of frame.removes) {
      const entity = this.entities.get(id);
      if (entity) this.remove(id, entity);
    }
  }

  /** Removes every entity (emits entityRemoved for each). */
  clear(): void {
    for (const [id, entity] of [...this.entities]) this.remove(id, entity);
  }

  /** Starts predicting entity `id`: from now on its transform is set locally (see {@link setLocalTransform}). */
  predict(id: number): void {
    if (this.predictedId === id) return;
    this.predictedId = id;
    const entity = this.entities.get(id);
    this.serverTransform = entity
      ? { position: { ...entity.position }, rotation: { ...entity.rotation } }
      : undefined;
  }

  /** Id of the predicted entity, if any. */
  get predicted(): number | undefined {
    return this.predictedId;
  }

  /** The last transform the server sent for the predicted entity. */
  serverTransformOf(): { position: Vec3; rotation: Quat } | undefined {
    return this.serverTransform;
  }

  /** Sets the transform of the predicted entity locally (client-side prediction). */
  setLocalTransform(id: number, position: Vec3, rotation: Quat): Entity | undefined {
    const entity = this.entities.get(id);
    if (!entity) return undefined;
    const changed: EntityField[] = [];
    if (!sameVec(entity.position, position)) changed.push('position');
    if (!sameQuat(entity.rotation, rotation)) changed.push('rotation');
    entity.position = { x: position.x, y: position.y, z: position.z };
    entity.rotation = { x: rotation.x, y: rotation.y, z: rotation.z, w: rotation.w };
    if (changed.length > 0) this.observer.entityChanged?.(entity, changed);
    return entity;
  }

  /** Snaps the predicted entity back to the last server transform (after the server refused a move). */
  reconcile(): void {
    const id = this.predictedId;
    const server = this.serverTransform;
    if (id === undefined || !server) return;
    this.setLocalTransform(id, server.position, server.rotation);
  }

  private spawn(spawn: EntityState): void {
    const existing = this.entities.get(spawn.id);
    const predicted = spawn.id === this.predictedId;
    if (predicted) {
      this.serverTransform = { position: { ...spawn.position }, rotation: { ...spawn.rotation } };
    }
    if (!existing) {
      const entity: Entity = {
        id: spawn.id,
        owner: spawn.owner,
        kind: spawn.kind,
        position: { ...spawn.position },
        rotation: { ...spawn.rotation },
        props: spawn.props,
      };
      this.entities.set(spawn.id, entity);
      this.observer.entityAdded?.(entity);
      return;
    }
    const changed: EntityField[] = [];
    if (!predicted && !sameVec(existing.position, spawn.position)) {
      existing.position = { ...spawn.position };
      changed.push('position');
    }
    if (!predicted && !sameQuat(existing.rotation, spawn.rotation)) {
      existing.rotation = { ...spawn.rotation };
      changed.push('rotation');
    }
    if (JSON.stringify(existing.props) !== JSON.stringify(spawn.props)) {
      existing.props = spawn.props;
      changed.push('props');
    }
    existing.owner = spawn.owner;
    existing.kind = spawn.kind;
    if (changed.length > 0) this.observer.entityChanged?.(existing, changed);
  }

  private update(update: EntityUpdate): void {
    const entity = this.entities.get(update.id);
    if (!entity) return;
    const changed: EntityField[] = [];
    if (update.id === this.predictedId) {
      const server = this.serverTransform ?? { position: entity.position, rotation: entity.rotation };
      this.serverTransform = {
        position: update.position ? { ...update.position } : server.position,
        rotation: update.rotation ? { ...update.rotation } : server.rotation,
      };
    } else {
      if (update.position) {
        entity.position = { ...update.position };
        changed.push('position');
      }
      if (update.rotation) {
        entity.rotation = { ...update.rotation };
        changed.push('rotation');
      }
    }
    if (update.props) {
      entity.props = update.props;
      changed.push('props');
    }
    if (changed.length > 0) this.observer.entityChanged?.(entity, changed);
  }

  private remove(id: number, entity: Entity): void {
    this.entities.delete(id);
    if (id === this.predictedId) this.serverTransform = undefined;
    this.observer.entityRemoved?.(entity);
  }
}

function sameVec(a: Vec3, b: Vec3): boolean {
  return a.x === b.x && a.y === b.y && a.z === b.z;
}

function sameQuat(a: Quat, b: Quat): boolean {
  return a.x === b.x && a.y === b.y && a.z === b.z && a.w === b.w;
}
