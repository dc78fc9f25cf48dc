import type { EntityState, EntityUpdate, Props, Quat, StateFrame, Vec3 } from '@plexus/protocol';

/** An entity as mirrored by the client: a plain object, replaced field by field by STATE frames. */
export type Entity = EntityState;

/** A field of an entity that a STATE frame (or a local prediction) can change. */
export type EntityField = 'position' | 'rotation' | 'props' | 'owner';

/** The state the server last sent for a predicted entity. */
export interface ServerState {
  position: Vec3;
  rotation: Quat;
  props: Props;
}

/** A local change of a predicted entity; `props` keys are merged (a key set to null is deleted). */
export interface LocalChange {
  position?: Vec3;
  rotation?: Quat;
  props?: Props;
}

/** Receives the effects of applying STATE frames and local predictions. */
export interface MirrorObserver {
  entityAdded?(entity: Entity): void;
  entityChanged?(entity: Entity, changed: readonly EntityField[]): void;
  entityRemoved?(entity: Entity): void;
  /** The owner of a known entity changed (from a STATE frame or {@link EntityMirror.setOwner}). */
  ownerChanged?(entity: Entity, previousOwner: number): void;
  /** The server sent new state for a predicted entity (kept aside in {@link EntityMirror.serverStateOf}). */
  serverUpdated?(entity: Entity, server: ServerState): void;
}

/**
 * The client's copy of the entities it can see, kept up to date from decoded STATE frames.
 *
 * - keyframe: the listed entities are all there is; others are removed, new ones added, known ones
 *   replaced (changed when a field differs);
 * - delta: spawns are added, updates merge the fields they carry (`props` is replaced as a whole),
 *   removes are removed. Updates and removes of unknown ids are ignored.
 *
 * Entities the client changes itself are *predicted* (see {@link predict}): their transform and
 * props are owned locally, and what the server sends for them is only remembered (see
 * {@link serverStateOf}) so that a correction can be applied with {@link reconcile}. Owner changes
 * always apply.
 */
export class EntityMirror {
  /** Current entities by id. Treat as read-only: the mirror mutates the objects in place. */
  readonly entities = new Map<number, Entity>();
  private readonly observer: MirrorObserver;
  private readonly predictedStates = new Map<number, ServerState>();
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

  /**
   * Takes the first keyframe of a new connection (a resume) in place: the same `entities` Map, and
   * the same entity object for every id that is still there with the same kind, so references held
   * by the application stay valid. Predictions end first — after a resume the server's state is the
   * truth (the own avatar stands where the server restored it). Then entities missing from the
   * keyframe are removed, new ones added, the others updated; observers hear each change as for
   * any keyframe. An id that now names an entity of another kind is removed and added anew.
   */
  resync(keyframe: StateFrame): void {
    this.predictedStates.clear();
    for (const spawn of keyframe.spawns) {
      const existing = this.entities.get(spawn.id);
      if (existing && existing.kind !== spawn.kind) this.remove(spawn.id, existing);
    }
    this.apply({ ...keyframe, keyframe: true });
  }

  /** Removes every entity (emits entityRemoved for each). */
  clear(): void {
    for (const [id, entity] of [...this.entities]) this.remove(id, entity);
  }

  /**
   * Starts predicting entity `id`: from now on its transform and props are set locally (see
   * {@link setLocal}). No-op for unknown or already predicted entities.
   */
  predict(id: number): void {
    const entity = this.entities.get(id);
    if (!entity || this.predictedStates.has(id)) return;
    this.predictedStates.set(id, snapshot(entity));
  }

  /** Stops predicting `id`: the entity takes the last state the server sent for it. */
  unpredict(id: number): void {
    if (!this.predictedStates.has(id)) return;
    this.reconcile(id);
    this.predictedStates.delete(id);
  }

  /** True while entity `id` is predicted. */
  isPredicted(id: number): boolean {
    return this.predictedStates.has(id);
  }

  /** Ids of the predicted entities. */
  predictedIds(): IterableIterator<number> {
    return this.predictedStates.keys();
  }

  /** The last state the server sent for predicted entity `id`. */
  serverStateOf(id: number): ServerState | undefined {
    return this.predictedStates.get(id);
  }

  /** Changes a predicted entity locally (client-side prediction); returns the entity. */
  setLocal(id: number, change: LocalChange): Entity | undefined {
    const entity = this.entities.get(id);
    if (!entity) return undefined;
    const changed: EntityField[] = [];
    if (change.position && !sameVec(entity.position, change.position)) {
      entity.position = { x: change.position.x, y: change.position.y, z: change.position.z };
      changed.push('position');
    }
    if (change.rotation && !sameQuat(entity.rotation, change.rotation)) {
      const r = change.rotation;
      entity.rotation = { x: r.x, y: r.y, z: r.z, w: r.w };
      changed.push('rotation');
    }
    if (change.props) {
      const merged = mergeProps(entity.props, change.props);
      if (!sameJson(merged, entity.props)) {
        entity.props = merged;
        changed.push('props');
      }
    }
    if (changed.length > 0) this.observer.entityChanged?.(entity, changed);
    return entity;
  }

  /**
   * Snaps a predicted entity back to the last state the server sent (after the server refused a
   * change): its transform, its props, or both (default).
   */
  reconcile(id: number, what: 'transform' | 'props' | 'all' = 'all'): void {
    const server = this.predictedStates.get(id);
    const entity = this.entities.get(id);
    if (!server || !entity) return;
    const changed: EntityField[] = [];
    if (what !== 'props') {
      if (!sameVec(entity.position, server.position)) {
        entity.position = { ...server.position };
        changed.push('position');
      }
      if (!sameQuat(entity.rotation, server.rotation)) {
        entity.rotation = { ...server.rotation };
        changed.push('rotation');
      }
    }
    if (what !== 'transform' && !sameJson(entity.props, server.props)) {
      entity.props = server.props;
      changed.push('props');
    }
    if (changed.length > 0) this.observer.entityChanged?.(entity, changed);
  }

  /**
   * Sets the owner of a known entity (used when the server's answer to an authority request
   * arrives before the STATE frame that carries the change); notifies like a STATE owner update.
   */
  setOwner(id: number, owner: number): void {
    const entity = this.entities.get(id);
    if (entity) this.changeOwner(entity, owner);
  }

  /** Backwards-compatible helpers for the own avatar (the first predicted entity). */
  get predicted(): number | undefined {
    return this.predictedStates.keys().next().value;
  }

  /** The last transform the server sent for predicted entity `id` (default: {@link predicted}). */
  serverTransformOf(id: number | undefined = this.predicted): { position: Vec3; rotation: Quat } | undefined {
    const server = id === undefined ? undefined : this.predictedStates.get(id);
    return server ? { position: server.position, rotation: server.rotation } : undefined;
  }

  private spawn(spawn: EntityState): void {
    const existing = this.entities.get(spawn.id);
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
    existing.kind = spawn.kind;
    const server = this.predictedStates.get(spawn.id);
    if (server) {
      server.position = { ...spawn.position };
      server.rotation = { ...spawn.rotation };
      server.props = spawn.props;
      if (spawn.owner === existing.owner) this.observer.serverUpdated?.(existing, server);
    } else {
      const changed: EntityField[] = [];
      if (!sameVec(existing.position, spawn.position)) {
        existing.position = { ...spawn.position };
        changed.push('position');
      }
      if (!sameQuat(existing.rotation, spawn.rotation)) {
        existing.rotation = { ...spawn.rotation };
        changed.push('rotation');
      }
      if (!sameJson(existing.props, spawn.props)) {
        existing.props = spawn.props;
        changed.push('props');
      }
      if (changed.length > 0) this.observer.entityChanged?.(existing, changed);
    }
    this.changeOwner(existing, spawn.owner);
  }

  private update(update: EntityUpdate): void {
    const entity = this.entities.get(update.id);
    if (!entity) return;
    const server = this.predictedStates.get(update.id);
    // An update of version 4 or later may leave y out: it is the y this client holds of the server's state.
    const xz = update.positionXZ;
    // A fresh object either way: the update's is the caller's to keep.
    const position = update.position
      ? { ...update.position }
      : xz
        ? { x: xz.x, y: (server ?? entity).position.y, z: xz.z }
        : undefined;
    if (server) {
      if (position) server.position = position;
      if (update.rotation) server.rotation = { ...update.rotation };
      if (update.props) server.props = update.props;
      // When the owner changes too, the owner change decides (it ends the prediction).
      const handedOver = update.owner !== undefined && update.owner !== entity.owner;
      if ((position || update.rotation || update.props) && !handedOver) {
        this.observer.serverUpdated?.(entity, server);
      }
    } else {
      if (position) entity.position = position;
      if (update.rotation) entity.rotation = { ...update.rotation };
      if (update.props) entity.props = update.props;
      const changed = CHANGED[(position ? 1 : 0) | (update.rotation ? 2 : 0) | (update.props ? 4 : 0)];
      if (changed) this.observer.entityChanged?.(entity, changed);
    }
    // After the transform: an observer that stops predicting on an owner change sees the new state.
    if (update.owner !== undefined) this.changeOwner(entity, update.owner);
  }

  private changeOwner(entity: Entity, owner: number): void {
    if (entity.owner === owner) return;
    const previous = entity.owner;
    entity.owner = owner;
    this.observer.entityChanged?.(entity, ['owner']);
    // The entity may have been removed by a listener of entityChanged.
    if (this.entities.get(entity.id) === entity) this.observer.ownerChanged?.(entity, previous);
  }

  private remove(id: number, entity: Entity): void {
    this.entities.delete(id);
    this.predictedStates.delete(id);
    this.observer.entityRemoved?.(entity);
  }
}

/**
 * The `changed` list of an update, by its bits (1 position, 2 rotation, 4 props): one frozen array
 * per combination, not one per update (a crowd brings thousands of updates a second).
 */
const CHANGED: readonly (readonly EntityField[] | undefined)[] = Array.from({ length: 8 }, (_, bits) => {
  if (bits === 0) return undefined;
  const fields: EntityField[] = [];
  if (bits & 1) fields.push('position');
  if (bits & 2) fields.push('rotation');
  if (bits & 4) fields.push('props');
  return Object.freeze(fields);
});

function snapshot(entity: Entity): ServerState {
  return { position: { ...entity.position }, rotation: { ...entity.rotation }, props: entity.props };
}

/** SET_ENTITY's merge: top-level keys replace, a key set to null is deleted. */
export function mergeProps(base: Props, change: Props): Props {
  const merged: Props = { ...base };
  for (const [key, value] of Object.entries(change)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function sameVec(a: Vec3, b: Vec3): boolean {
  return a.x === b.x && a.y === b.y && a.z === b.z;
}

function sameQuat(a: Quat, b: Quat): boolean {
  return a.x === b.x && a.y === b.y && a.z === b.z && a.w === b.w;
}

/** Structural equality of JSON values, ignoring the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  const bo = b as Record<string, unknown>;
  const ao = a as Record<string, unknown>;
  return ak.every((k) => Object.hasOwn(bo, k) && sameJson(ao[k], bo[k]));
}
