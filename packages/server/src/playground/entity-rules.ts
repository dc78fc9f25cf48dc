import { type ErrorName, type Props, type Quat, SERVER_OWNER, type Vec3 } from '@plexus/protocol';
import { TokenBucket } from '../limits/rate-limiter.ts';
import { AVATAR, AVATAR_KIND, type EntityKind, inKindBounds } from './entity-kinds.ts';
import type { Entity, Playground } from './playground.ts';
import type { EntityChange, EntityView, PlaygroundType } from './playground-type.ts';
import { mergeProps, validateNewProps, type Writer } from './props-schema.ts';
import {
  checkTransform,
  initialMotion,
  type MotionState,
  normaliseRotation,
  positionInBounds,
} from './transform-rules.ts';

export type Refused = { ok: false; error: ErrorName; message: string };

export type MoveVerdict = { ok: true; position: Vec3; rotation: Quat } | Refused;

/** A spawn that passed every check, ready to commit. */
export interface SpawnPlan {
  kind: EntityKind;
  position: Vec3;
  rotation: Quat;
  props: Props;
}

/** A change that passed every check: the merged props and the new transform, where given. */
export interface ChangePlan {
  props: Props | null;
  transform: { position: Vec3; rotation: Quat } | null;
}

/** Per-entity bookkeeping the wire state does not carry. */
interface EntityRuntime {
  /** Client that spawned it (0 = the server): spawn quotas count live entities per spawner. */
  spawner: number;
  /** Movement allowance of its current owner; reset whenever authority changes. */
  motion: MotionState | null;
  /** Update-rate bucket (kinds with maxUpdatesPerSec); reset whenever authority changes. */
  bucket: TokenBucket | null;
}

const DEFAULT_MAX_ENTITIES = 4096;

export function refused(error: ErrorName, message: string): Refused {
  return { ok: false, error, message };
}

/**
 * The entity rules of one playground, in one place for both writers (docs/playground-logic.md):
 * a client's frames (`writer: 'client'`: spawn quotas, update rates, speed, client-writable props)
 * and the type's own API (`'server'`: bounds and schemas only). Each check returns a verdict and
 * changes nothing; the `commit…` methods change the playground.
 */
export class EntityRules {
  private readonly playground: Playground;
  private readonly kinds = new Map<string, EntityKind>();
  private readonly runtime = new Map<number, EntityRuntime>();
  private readonly now: () => number;
  private readonly maxSpeedMps: number;
  readonly maxEntities: number;

  constructor(type: PlaygroundType, playground: Playground, now: () => number, maxSpeedMps: number) {
    this.playground = playground;
    this.now = now;
    this.maxSpeedMps = maxSpeedMps;
    this.maxEntities = type.limits?.maxEntities ?? DEFAULT_MAX_ENTITIES;
    this.kinds.set(AVATAR, AVATAR_KIND);
    for (const [name, kind] of Object.entries(type.kinds ?? {})) this.kinds.set(name, kind);
  }

  kind(name: string): EntityKind | undefined {
    return this.kinds.get(name);
  }

  // ------------------------------------------------------------ checks

  /**
   * Spawning `kindName` at a place with props: the kind exists (and clients may spawn it, within
   * their quotas), the playground has room, the place is in bounds, the rotation is a rotation, the
   * props fit the kind's schema for this writer.
   */
  checkSpawn(
    writer: Writer,
    spawner: number,
    kindName: string,
    position: Vec3,
    rotation: Quat,
    props: Props,
  ): { ok: true; plan: SpawnPlan } | Refused {
    const kind = this.kinds.get(kindName);
    if (!kind) return refused('PROTOCOL_FORBIDDEN_BY_RULE', `unknown entity kind "${kindName}"`);
    if (writer === 'client') {
      const quota = this.checkQuota(spawner, kindName, kind);
      if (quota) return quota;
    }
    if (this.playground.entityCount >= this.maxEntities) {
      return refused('PROTOCOL_SPAWN_LIMIT', 'The playground holds too many entities');
    }
    const place = this.checkPlace(kind, position, rotation);
    if (!place.ok) return place;
    const verdict = validateNewProps(kind.props ?? {}, props, writer);
    if (!verdict.ok) return refused('PROTOCOL_INVALID_PROPS', verdict.reason);
    return { ok: true, plan: { kind, position, rotation: place.rotation, props: verdict.props } };
  }

  private checkQuota(spawner: number, kindName: string, kind: EntityKind): Refused | null {
    const limits = kind.clientSpawn;
    if (!limits) return refused('PROTOCOL_FORBIDDEN_BY_RULE', `Clients may not spawn "${kindName}" here`);
    let mine = 0;
    let ofKind = 0;
    for (const e of this.playground.all()) {
      if (e.kind !== kindName) continue;
      ofKind++;
      if (this.runtime.get(e.id)?.spawner === spawner) mine++;
    }
    if (mine >= limits.maxPerClient) {
      return refused('PROTOCOL_SPAWN_LIMIT', `At most ${limits.maxPerClient} "${kindName}" per client`);
    }
    if (limits.maxTotal !== undefined && ofKind >= limits.maxTotal) {
      return refused('PROTOCOL_SPAWN_LIMIT', `At most ${limits.maxTotal} "${kindName}" in this playground`);
    }
    return null;
  }

  /** A place for an entity of `kind`: world and kind bounds, and a unit rotation. */
  private checkPlace(kind: EntityKind, position: Vec3, rotation: Quat): MoveVerdict {
    if (!positionInBounds(position) || !inKindBounds(kind, position)) {
      return refused('PROTOCOL_INVALID_TRANSFORM', `position ${JSON.stringify(position)} is out of bounds`);
    }
    const unit = normaliseRotation(rotation);
    if (!unit)
      return refused('PROTOCOL_INVALID_TRANSFORM', 'rotation must be a finite quaternion of length ≈ 1');
    return { ok: true, position, rotation: unit };
  }

  /**
   * A client's write to an entity: it exists, the client owns it, within the kind's update rate.
   * A MOVE of a missing entity is `NOT_OWNER`, a SET_ENTITY's `UNKNOWN_ENTITY` (docs/protocol.md §5.7).
   */
  checkClientWrite(
    clientId: number,
    entityId: number,
    missing: 'PROTOCOL_UNKNOWN_ENTITY' | 'PROTOCOL_NOT_OWNER',
  ): { ok: true; entity: Entity } | Refused {
    const entity = this.playground.get(entityId);
    if (!entity) {
      return refused(
        missing,
        missing === 'PROTOCOL_NOT_OWNER' ? `Entity ${entityId} is not yours` : `No entity ${entityId}`,
      );
    }
    if (entity.owner !== clientId) return refused('PROTOCOL_NOT_OWNER', `Entity ${entityId} is not yours`);
    if (!this.takeUpdateToken(entity)) {
      return refused('PROTOCOL_ENTITY_RATE_LIMITED', `Entity ${entityId}: too many updates`);
    }
    return { ok: true, entity };
  }

  /**
   * A change of an entity's props and/or transform, all or nothing: props merged under the kind's
   * schema for this writer; a client's transform is checked against its owner's movement allowance
   * (speed), the server's against the bounds only. `base` is the client's queued move of the entity.
   */
  checkChange(
    writer: Writer,
    entity: Entity,
    change: EntityChange,
    base?: { position: Vec3; rotation: Quat },
  ): { ok: true; plan: ChangePlan } | Refused {
    const kind = this.kinds.get(entity.kind);
    const plan: ChangePlan = { props: null, transform: null };
    if (change.props) {
      const verdict = mergeProps(kind?.props ?? {}, entity.props, change.props, writer);
      if (!verdict.ok) return refused('PROTOCOL_INVALID_PROPS', verdict.reason);
      plan.props = verdict.props;
    }
    if (change.position || change.rotation) {
      const position = change.position ?? base?.position ?? entity.position;
      const rotation = change.rotation ?? base?.rotation ?? entity.rotation;
      const verdict =
        writer === 'client'
          ? this.checkMotion(entity, position, rotation)
          : kind
            ? this.checkPlace(kind, position, rotation)
            : refused('PROTOCOL_FORBIDDEN_BY_RULE', `unknown entity kind "${entity.kind}"`);
      if (!verdict.ok) return verdict;
      plan.transform = { position: verdict.position, rotation: verdict.rotation };
    }
    return { ok: true, plan };
  }

  /** A client's move of an entity it owns: bounds, rotation, speed. */
  checkMotion(entity: Entity, position: Vec3, rotation: Quat): MoveVerdict {
    const kind = this.kinds.get(entity.kind);
    const maxSpeed = kind?.maxSpeedMps ?? this.maxSpeedMps;
    const now = this.now();
    if (kind && !inKindBounds(kind, position)) {
      return refused('PROTOCOL_INVALID_TRANSFORM', 'Move refused: position');
    }
    const rt = this.runtimeOf(entity.id);
    rt.motion ??= initialMotion(entity.position, now, maxSpeed);
    const verdict = checkTransform(position, rotation, rt.motion, now, maxSpeed);
    if (!verdict.ok) return refused('PROTOCOL_INVALID_TRANSFORM', `Move refused: ${verdict.reason}`);
    return verdict;
  }

  private takeUpdateToken(entity: Entity): boolean {
    const rate = this.kinds.get(entity.kind)?.maxUpdatesPerSec;
    if (rate === undefined) return true;
    const rt = this.runtimeOf(entity.id);
    rt.bucket ??= new TokenBucket(rate, Math.max(1, Math.ceil(rate)), this.now);
    return rt.bucket.take();
  }

  // ------------------------------------------------------------ commits

  commitSpawn(owner: number, spawner: number, kindName: string, plan: Omit<SpawnPlan, 'kind'>): number {
    const e = this.playground.spawn({
      owner,
      kind: kindName,
      position: plan.position,
      rotation: plan.rotation,
      props: plan.props,
    });
    this.runtime.set(e.id, { spawner, motion: null, bucket: null });
    return e.id;
  }

  /** Applies a checked change; a server-set transform restarts the owner's movement allowance there. */
  commitChange(entity: Entity, plan: ChangePlan): void {
    if (plan.transform) {
      this.playground.setTransform(entity.id, plan.transform.position, plan.transform.rotation);
      this.runtimeOf(entity.id).motion = null;
    }
    if (plan.props) this.playground.setProps(entity.id, plan.props);
  }

  /** Puts back an entity of a checkpoint, if its kind, props and place are still valid here. */
  restore(e: EntityView): boolean {
    const kind = this.kinds.get(e.kind);
    if (!kind) return false;
    const props = validateNewProps(kind.props ?? {}, e.props, 'server');
    const rotation = normaliseRotation(e.rotation);
    if (!props.ok || !rotation || !positionInBounds(e.position) || !inKindBounds(kind, e.position))
      return false;
    if (!this.playground.restore({ ...e, rotation, props: props.props })) return false;
    this.runtime.set(e.id, { spawner: SERVER_OWNER, motion: null, bucket: null });
    return true;
  }

  /** Hands an entity to `owner` (0 = the server). */
  changeOwner(entity: Entity, owner: number): void {
    if (entity.owner === owner) return;
    this.playground.setOwner(entity.id, owner);
    const rt = this.runtimeOf(entity.id);
    // The new owner starts with a full allowance from where the entity is now.
    rt.motion = null;
    rt.bucket = null;
  }

  /** Every entity `from` holds now belongs to `to`. */
  transferAll(from: number, to: number): void {
    for (const e of this.playground.all()) if (e.owner === from) this.changeOwner(e, to);
  }

  remove(id: number): void {
    this.playground.remove(id);
    this.runtime.delete(id);
  }

  private runtimeOf(id: number): EntityRuntime {
    let rt = this.runtime.get(id);
    if (!rt) {
      rt = { spawner: SERVER_OWNER, motion: null, bucket: null };
      this.runtime.set(id, rt);
    }
    return rt;
  }
}

/** The answer to a client request: the entity id, or the refusal (a RESULT frame, or an ERROR). */
export type Outcome = { ok: true; value: number } | Refused;
