import type { Logger } from '@plexus/kit';
import {
  AuthorityAction,
  type AuthorityActionCode,
  EntityLimits,
  type ErrorName,
  EVENT_MAX_PAYLOAD_BYTES,
  type EventsPublishParams,
  type EventsPublishResult,
  type EventTarget,
  encodeServerMessage,
  type JsonValue,
  PLAYER_DATA_MAX_BYTES,
  type Props,
  type Quat,
  SERVER_OWNER,
  type Vec3,
} from '@plexus/protocol';
import { TokenBucket } from '../transport/rate-limiter.ts';
import { AVATAR, AVATAR_KIND, type EntityKind, inKindBounds } from './entity-kinds.ts';
import type { Entity, Playground } from './playground.ts';
import type {
  ClientRequest,
  EntityChange,
  EntityView,
  JoinVerdict,
  Member,
  PlaygroundApi,
  PlaygroundType,
  SpawnOptions,
} from './playground-type.ts';
import { PlaygroundApiError } from './playground-type.ts';
import { mergeProps, validateNewProps } from './props-schema.ts';
import {
  checkTransform,
  initialMotion,
  type MotionState,
  normaliseRotation,
  positionInBounds,
} from './transform-rules.ts';

/** A member as the logic holds it: what hooks see, plus how to reach its socket. */
export interface MemberHandle extends Member {
  /** Sends a server frame (queued by the connection until its WELCOME went out). */
  send(bytes: Uint8Array): void;
}

export type Outcome = { ok: true; value: number } | { ok: false; error: ErrorName; message: string };

export type MoveVerdict =
  | { ok: true; position: Vec3; rotation: Quat }
  | { ok: false; error: ErrorName; message: string };

export interface PlaygroundLogicOptions {
  type: PlaygroundType;
  playground: Playground;
  logger: Logger;
  /** Monotonic clock (ms). */
  now: () => number;
  currentTick: () => number;
  /** Default speed limit of kinds without their own. */
  maxSpeedMps: number;
  /** Told of every contained failure of the logic (metrics, analytics). */
  onLogicError?: (hook: string) => void;
  /** Player data and event publishing (the host's; absent in a server without a balancer). */
  services?: LogicServices;
}

/** What the logic API needs from the host beyond the playground itself. */
export interface LogicServices {
  getPlayerData(clientId: number): Record<string, unknown> | undefined;
  /** False when the client is not a member. */
  setPlayerData(clientId: number, data: Record<string, unknown>): boolean;
  /** Resolves null when the event could not be published. */
  publish(params: EventsPublishParams): Promise<EventsPublishResult | null>;
}

/** An entity of a checkpoint, with its owner already mapped to a client id of this server. */
export type RestoredEntity = EntityView;

const EVENT_TYPE = /^[A-Za-z0-9._:-]{1,64}$/;
const TARGET_ID_MAX = 128;

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
const IDENTITY: Quat = { x: 0, y: 0, z: 0, w: 1 };
const ORIGIN: Vec3 = { x: 0, y: 0, z: 0 };
const REASON_MAX = 256;
/** A hook failing every tick logs at most once per this period (with the count it skipped). */
const ERROR_LOG_PERIOD_MS = 5_000;

/**
 * The rules of one playground: its type's hooks (each call contained), entity kinds and schemas,
 * authority, spawn quotas and per-kind limits, and the API the hooks are given. Frame handlers and
 * the host call in here; nothing here touches sockets except through `MemberHandle.send`.
 */
export class PlaygroundLogic {
  readonly type: PlaygroundType;
  readonly api: PlaygroundApi;
  private readonly playground: Playground;
  private readonly kinds = new Map<string, EntityKind>();
  private readonly records = new Map<number, MemberHandle & { joined: boolean }>();
  private readonly runtime = new Map<number, EntityRuntime>();
  private readonly options: PlaygroundLogicOptions;
  private readonly log: Logger;
  private readonly errorLog = new Map<string, { at: number; skipped: number }>();

  constructor(options: PlaygroundLogicOptions) {
    this.options = options;
    this.type = options.type;
    this.playground = options.playground;
    this.log = options.logger.child({ playgroundType: options.type.name });
    this.kinds.set(AVATAR, AVATAR_KIND);
    for (const [name, kind] of Object.entries(options.type.kinds ?? {})) this.kinds.set(name, kind);
    this.api = this.createApi();
  }

  kind(name: string): EntityKind | undefined {
    return this.kinds.get(name);
  }

  // ------------------------------------------------------------ lifecycle (called by the host)

  create(): void {
    const { onCreate } = this.type;
    if (onCreate) this.contained('onCreate', () => onCreate.call(this.type, this.api));
  }

  /** The avatar of a joining client (props from its verified ticket, written by the server). */
  spawnAvatar(clientId: number, position: Vec3, props: Props, rotation: Quat = IDENTITY): number {
    const e = this.playground.spawn({ owner: clientId, kind: AVATAR, position, rotation, props });
    this.runtime.set(e.id, { spawner: SERVER_OWNER, motion: null, bucket: null });
    return e.id;
  }

  /**
   * Runs `onJoin` for a client whose avatar exists. On refusal the avatar is removed and the
   * error to send is returned; on success the client is a member.
   */
  join(handle: MemberHandle, replacing?: number): { error: ErrorName; message: string } | null {
    const max = this.type.limits?.maxMembers;
    const seats = this.memberCount - (replacing !== undefined && this.records.get(replacing)?.joined ? 1 : 0);
    if (max !== undefined && seats >= max) {
      this.releaseAll(handle.clientId);
      this.removeEntity(handle.avatarId);
      return { error: 'PROTOCOL_JOIN_REFUSED', message: 'The playground is full' };
    }
    const record = { ...handle, joined: false };
    this.records.set(handle.clientId, record);
    const { onJoin } = this.type;
    if (onJoin) {
      const result = this.contained('onJoin', () => onJoin.call(this.type, this.api, toMember(record)));
      const refusal = !result.ok
        ? 'The playground could not admit you (its logic failed)'
        : isRefusal(result.value)
          ? String(result.value.refuse).slice(0, REASON_MAX) || 'Refused by the playground'
          : null;
      if (refusal !== null) {
        this.records.delete(handle.clientId);
        this.releaseAll(handle.clientId);
        this.removeEntity(handle.avatarId);
        return { error: 'PROTOCOL_JOIN_REFUSED', message: refusal };
      }
    }
    record.joined = true;
    return null;
  }

  /**
   * A member left: its avatar is removed, every entity it held returns to the server (entities it
   * spawned stay, server-owned), then `onLeave` runs.
   */
  leave(clientId: number): void {
    const record = this.records.get(clientId);
    if (!record) return;
    this.records.delete(clientId);
    this.removeEntity(record.avatarId);
    this.releaseAll(clientId);
    const { onLeave } = this.type;
    if (onLeave && record.joined)
      this.contained('onLeave', () => onLeave.call(this.type, this.api, toMember(record)));
  }

  /**
   * A member's connection dropped: it stops being a member (`onLeave` runs) but its avatar and the
   * entities it holds stay as they are, for a resume to take back (`transferAll`).
   */
  detach(clientId: number): void {
    const record = this.records.get(clientId);
    if (!record) return;
    this.records.delete(clientId);
    const { onLeave } = this.type;
    if (onLeave && record.joined)
      this.contained('onLeave', () => onLeave.call(this.type, this.api, toMember(record)));
  }

  /** Every entity `from` holds (an absent user's avatar included) now belongs to `to`. */
  transferAll(from: number, to: number): void {
    for (const e of this.playground.all()) if (e.owner === from) this.changeOwner(e, to);
  }

  /** Removes an avatar whose user is gone for good (the resume grace ran out). */
  removeAvatar(id: number): void {
    if (this.playground.get(id)?.kind === AVATAR) this.removeEntity(id);
  }

  /**
   * Puts back an entity of a checkpoint under its id, if its kind, props and place are still valid
   * here (the type may have changed since); false when it was dropped.
   */
  restoreEntity(e: RestoredEntity): boolean {
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

  /** The type's `saveState`, contained; undefined without it or when it failed. */
  saveState(): JsonValue | undefined {
    const { saveState } = this.type;
    if (!saveState) return undefined;
    const result = this.contained('saveState', () => saveState.call(this.type, this.api));
    return result.ok ? result.value : undefined;
  }

  /** A restored playground: `loadState` runs instead of `onCreate`. */
  loadState(saved: JsonValue | undefined): void {
    const { loadState } = this.type;
    if (loadState) this.contained('loadState', () => loadState.call(this.type, this.api, saved));
  }

  get hasSaveState(): boolean {
    return this.type.saveState !== undefined;
  }

  tick(tick: number, dtMs: number): void {
    const { onTick } = this.type;
    if (onTick) this.contained('onTick', () => onTick.call(this.type, this.api, { tick, dtMs }));
  }

  dispose(): void {
    const { onDispose } = this.type;
    if (onDispose) this.contained('onDispose', () => onDispose.call(this.type, this.api));
  }

  get memberCount(): number {
    let n = 0;
    for (const r of this.records.values()) if (r.joined) n++;
    return n;
  }

  // ------------------------------------------------------------ client frames

  /** MOVE (and the transform of SET_ENTITY): authority, update rate, bounds, rotation, speed. */
  checkMove(clientId: number, entityId: number, position: Vec3, rotation: Quat): MoveVerdict {
    const entity = this.playground.get(entityId);
    if (!entity || entity.owner !== clientId) {
      return { ok: false, error: 'PROTOCOL_NOT_OWNER', message: `Entity ${entityId} is not yours` };
    }
    const rt = this.runtimeOf(entity);
    if (!this.takeUpdateToken(entity, rt)) {
      return {
        ok: false,
        error: 'PROTOCOL_ENTITY_RATE_LIMITED',
        message: `Entity ${entityId}: too many updates`,
      };
    }
    return this.checkTransformOf(entity, rt, position, rotation);
  }

  /**
   * SET_ENTITY: all or nothing. Props are applied at once; the transform (when given) is returned
   * for the connection to queue like a MOVE. `base` is the client's queued move of the entity.
   */
  setEntity(
    clientId: number,
    entityId: number,
    change: EntityChange,
    base: { position: Vec3; rotation: Quat } | undefined,
  ): MoveVerdict | { ok: true; position?: undefined; rotation?: undefined } {
    const entity = this.playground.get(entityId);
    if (!entity) return { ok: false, error: 'PROTOCOL_UNKNOWN_ENTITY', message: `No entity ${entityId}` };
    if (entity.owner !== clientId) {
      return { ok: false, error: 'PROTOCOL_NOT_OWNER', message: `Entity ${entityId} is not yours` };
    }
    const kind = this.kinds.get(entity.kind);
    const rt = this.runtimeOf(entity);
    if (!this.takeUpdateToken(entity, rt)) {
      return {
        ok: false,
        error: 'PROTOCOL_ENTITY_RATE_LIMITED',
        message: `Entity ${entityId}: too many updates`,
      };
    }
    let props: Props | null = null;
    if (change.props) {
      const verdict = mergeProps(kind?.props ?? {}, entity.props, change.props, 'client');
      if (!verdict.ok) return { ok: false, error: 'PROTOCOL_INVALID_PROPS', message: verdict.reason };
      props = verdict.props;
    }
    let transform: MoveVerdict | null = null;
    if (change.position || change.rotation) {
      const position = change.position ?? base?.position ?? entity.position;
      const rotation = change.rotation ?? base?.rotation ?? entity.rotation;
      transform = this.checkTransformOf(entity, rt, position, rotation);
      if (!transform.ok) return transform;
    }
    if (props) this.playground.setProps(entityId, props);
    return transform ?? { ok: true };
  }

  spawnRequest(
    clientId: number,
    frame: { kind: string; position: Vec3; rotation: Quat; props: Props },
  ): Outcome {
    const kind = this.kinds.get(frame.kind);
    if (!kind?.clientSpawn) {
      return refused('PROTOCOL_FORBIDDEN_BY_RULE', `Clients may not spawn "${frame.kind}" here`);
    }
    let mine = 0;
    let ofKind = 0;
    for (const e of this.playground.all()) {
      if (e.kind !== frame.kind) continue;
      ofKind++;
      if (this.runtime.get(e.id)?.spawner === clientId) mine++;
    }
    if (mine >= kind.clientSpawn.maxPerClient) {
      return refused(
        'PROTOCOL_SPAWN_LIMIT',
        `At most ${kind.clientSpawn.maxPerClient} "${frame.kind}" per client`,
      );
    }
    if (kind.clientSpawn.maxTotal !== undefined && ofKind >= kind.clientSpawn.maxTotal) {
      return refused(
        'PROTOCOL_SPAWN_LIMIT',
        `At most ${kind.clientSpawn.maxTotal} "${frame.kind}" in this playground`,
      );
    }
    if (this.playground.entityCount >= this.maxEntities) {
      return refused('PROTOCOL_SPAWN_LIMIT', 'The playground holds too many entities');
    }
    const rotation = normaliseRotation(frame.rotation);
    if (!positionInBounds(frame.position) || !inKindBounds(kind, frame.position) || !rotation) {
      return refused('PROTOCOL_INVALID_TRANSFORM', 'Spawn position or rotation refused');
    }
    const props = validateNewProps(kind.props ?? {}, frame.props, 'client');
    if (!props.ok) return refused('PROTOCOL_INVALID_PROPS', props.reason);
    const rule = this.askRule(clientId, {
      action: 'spawn',
      kind: frame.kind,
      position: { ...frame.position },
      rotation,
      props: structuredClone(props.props),
    });
    if (rule) return rule;
    const e = this.playground.spawn({
      owner: clientId,
      kind: frame.kind,
      position: frame.position,
      rotation,
      props: props.props,
    });
    this.runtime.set(e.id, { spawner: clientId, motion: null, bucket: null });
    return { ok: true, value: e.id };
  }

  despawnRequest(clientId: number, entityId: number): Outcome {
    const entity = this.playground.get(entityId);
    if (!entity) return refused('PROTOCOL_UNKNOWN_ENTITY', `No entity ${entityId}`);
    if (entity.owner !== clientId) return refused('PROTOCOL_NOT_OWNER', `Entity ${entityId} is not yours`);
    const kind = this.kinds.get(entity.kind);
    if (!(kind?.clientDespawn ?? Boolean(kind?.clientSpawn)) || entity.kind === AVATAR) {
      return refused('PROTOCOL_FORBIDDEN_BY_RULE', `Clients may not despawn "${entity.kind}" here`);
    }
    const rule = this.askRule(clientId, { action: 'despawn', entity: view(entity) });
    if (rule) return rule;
    this.removeEntity(entityId);
    return { ok: true, value: entityId };
  }

  /**
   * AUTHORITY: REQUEST (first come wins; grabbable kinds or the type's rule), RELEASE (to the
   * server), TRANSFER (by the owner, to another member). Runs synchronously on the one thread, so
   * racing requests are decided in arrival order and there is exactly one owner at any time.
   */
  authorityRequest(clientId: number, action: AuthorityActionCode, entityId: number, target: number): Outcome {
    const entity = this.playground.get(entityId);
    if (!entity) return refused('PROTOCOL_UNKNOWN_ENTITY', `No entity ${entityId}`);
    const kind = this.kinds.get(entity.kind);
    switch (action) {
      case AuthorityAction.REQUEST: {
        if (entity.owner === clientId) return { ok: true, value: entityId };
        if (entity.owner !== SERVER_OWNER) {
          return refused('PROTOCOL_AUTHORITY_HELD', `Entity ${entityId} is held by client ${entity.owner}`);
        }
        const verdict = this.ruleVerdict(clientId, { action: 'request', entity: view(entity) });
        if (verdict.error) return verdict.error;
        if (verdict.allow === false || (verdict.allow === undefined && !kind?.grabbable)) {
          return refused(
            'PROTOCOL_FORBIDDEN_BY_RULE',
            verdict.reason ?? `"${entity.kind}" cannot be grabbed`,
          );
        }
        this.changeOwner(entity, clientId);
        return { ok: true, value: entityId };
      }
      case AuthorityAction.RELEASE:
        if (entity.owner !== clientId)
          return refused('PROTOCOL_NOT_OWNER', `Entity ${entityId} is not yours`);
        if (kind?.authorityFixed)
          return refused('PROTOCOL_FORBIDDEN_BY_RULE', `"${entity.kind}" cannot be released`);
        this.changeOwner(entity, SERVER_OWNER);
        return { ok: true, value: entityId };
      case AuthorityAction.TRANSFER: {
        if (entity.owner !== clientId)
          return refused('PROTOCOL_NOT_OWNER', `Entity ${entityId} is not yours`);
        if (kind?.authorityFixed) {
          return refused('PROTOCOL_FORBIDDEN_BY_RULE', `"${entity.kind}" cannot be transferred`);
        }
        if (!this.records.get(target)?.joined) {
          return refused('PROTOCOL_UNKNOWN_CLIENT', `No client ${target} in this playground`);
        }
        if (target === clientId) return { ok: true, value: entityId };
        const verdict = this.ruleVerdict(clientId, { action: 'transfer', entity: view(entity), to: target });
        if (verdict.error) return verdict.error;
        if (verdict.allow === false) {
          return refused('PROTOCOL_FORBIDDEN_BY_RULE', verdict.reason ?? 'Transfer refused');
        }
        this.changeOwner(entity, target);
        return { ok: true, value: entityId };
      }
    }
  }

  /** A client MESSAGE: handed to the type's onMessage. */
  message(clientId: number, type: string, payload: JsonValue): Outcome {
    const record = this.records.get(clientId);
    const { onMessage } = this.type;
    if (!record) return refused('PROTOCOL_UNEXPECTED_FRAME', 'Not in a playground');
    if (!onMessage) return refused('PROTOCOL_FORBIDDEN_BY_RULE', 'This playground accepts no messages');
    // The frame's limit counts the client's JSON text; numbers like 1e20 grow when encoded again for
    // relaying, so the relayed size is checked here, before the logic sees the payload.
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    if (bytes > EntityLimits.messagePayloadBytes) {
      return refused(
        'PROTOCOL_MESSAGE_TOO_LARGE',
        `The payload is ${bytes} bytes as JSON; the limit is ${EntityLimits.messagePayloadBytes}`,
      );
    }
    const result = this.contained('onMessage', () =>
      onMessage.call(this.type, this.api, toMember(record), { type, payload }),
    );
    if (!result.ok) return refused('PROTOCOL_LOGIC_ERROR', `The playground logic failed on "${type}"`);
    return { ok: true, value: 0 };
  }

  // ------------------------------------------------------------ internals

  private get maxEntities(): number {
    return this.type.limits?.maxEntities ?? DEFAULT_MAX_ENTITIES;
  }

  private runtimeOf(entity: Entity): EntityRuntime {
    let rt = this.runtime.get(entity.id);
    if (!rt) {
      rt = { spawner: SERVER_OWNER, motion: null, bucket: null };
      this.runtime.set(entity.id, rt);
    }
    return rt;
  }

  private takeUpdateToken(entity: Entity, rt: EntityRuntime): boolean {
    const rate = this.kinds.get(entity.kind)?.maxUpdatesPerSec;
    if (rate === undefined) return true;
    rt.bucket ??= new TokenBucket(rate, Math.max(1, Math.ceil(rate)), this.options.now);
    return rt.bucket.take();
  }

  private checkTransformOf(entity: Entity, rt: EntityRuntime, position: Vec3, rotation: Quat): MoveVerdict {
    const kind = this.kinds.get(entity.kind);
    const maxSpeed = kind?.maxSpeedMps ?? this.options.maxSpeedMps;
    const now = this.options.now();
    if (kind && !inKindBounds(kind, position)) {
      return { ok: false, error: 'PROTOCOL_INVALID_TRANSFORM', message: 'Move refused: position' };
    }
    rt.motion ??= initialMotion(entity.position, now, maxSpeed);
    const verdict = checkTransform(position, rotation, rt.motion, now, maxSpeed);
    if (!verdict.ok) {
      return { ok: false, error: 'PROTOCOL_INVALID_TRANSFORM', message: `Move refused: ${verdict.reason}` };
    }
    return verdict;
  }

  private changeOwner(entity: Entity, owner: number): void {
    if (entity.owner === owner) return;
    this.playground.setOwner(entity.id, owner);
    const rt = this.runtimeOf(entity);
    // The new owner starts with a full allowance from where the entity is now.
    rt.motion = null;
    rt.bucket = null;
  }

  /** Every entity `clientId` holds goes back to the server. */
  releaseAll(clientId: number): void {
    for (const e of this.playground.all()) if (e.owner === clientId) this.changeOwner(e, SERVER_OWNER);
  }

  private removeEntity(id: number): void {
    this.playground.remove(id);
    this.runtime.delete(id);
  }

  private ruleVerdict(
    clientId: number,
    request: ClientRequest,
  ): { allow?: boolean; reason?: string; error?: Outcome } {
    const { onRequest } = this.type;
    const record = this.records.get(clientId);
    if (!onRequest || !record) return {};
    const result = this.contained('onRequest', () =>
      onRequest.call(this.type, this.api, toMember(record), request),
    );
    if (!result.ok)
      return { error: refused('PROTOCOL_LOGIC_ERROR', 'The playground logic failed on this request') };
    const v = result.value;
    if (v === true) return { allow: true };
    if (v === false) return { allow: false };
    if (typeof v === 'string') return { allow: false, reason: v.slice(0, REASON_MAX) };
    return {};
  }

  /** Spawn / despawn: the default is allow; the rule may refuse. */
  private askRule(clientId: number, request: ClientRequest): Outcome | null {
    const verdict = this.ruleVerdict(clientId, request);
    if (verdict.error) return verdict.error;
    if (verdict.allow === false)
      return refused('PROTOCOL_FORBIDDEN_BY_RULE', verdict.reason ?? 'Refused by the playground');
    return null;
  }

  /**
   * Runs user logic: an exception is logged (at most once per 5 s per hook) and reported as a
   * failed call; a promise returned by a hook has its rejection caught the same way.
   */
  private contained<T>(hook: string, fn: () => T): { ok: true; value: T } | { ok: false } {
    try {
      const value = fn();
      if (
        value !== null &&
        typeof value === 'object' &&
        typeof (value as { then?: unknown }).then === 'function'
      ) {
        (value as unknown as Promise<unknown>).then(undefined, (err: unknown) => this.logicError(hook, err));
        return { ok: true, value: undefined as T };
      }
      return { ok: true, value };
    } catch (err) {
      this.logicError(hook, err);
      return { ok: false };
    }
  }

  private logicError(hook: string, err: unknown): void {
    this.options.onLogicError?.(hook);
    const now = this.options.now();
    const last = this.errorLog.get(hook);
    if (last && now - last.at < ERROR_LOG_PERIOD_MS) {
      last.skipped++;
      return;
    }
    this.errorLog.set(hook, { at: now, skipped: 0 });
    this.log.error({ err, hook, skipped: last?.skipped ?? 0 }, 'playground logic failed');
  }

  private sendTo(ids: Iterable<number>, bytes: Uint8Array): void {
    for (const id of ids) this.records.get(id)?.send(bytes);
  }

  private createApi(): PlaygroundApi {
    const self = this;
    const pg = this.playground;
    const mustEntity = (id: number): Entity => {
      const e = pg.get(id);
      if (!e) throw new PlaygroundApiError(`no entity ${id}`);
      return e;
    };
    const mustKind = (name: string): EntityKind => {
      const k = self.kinds.get(name);
      if (!k) throw new PlaygroundApiError(`unknown entity kind "${name}" (declare it in the type's kinds)`);
      return k;
    };
    const checkPlace = (kind: EntityKind, position: Vec3): void => {
      if (!positionInBounds(position) || !inKindBounds(kind, position))
        throw new PlaygroundApiError(`position ${JSON.stringify(position)} is out of bounds`);
    };
    const unitRotation = (q: Quat): Quat => {
      const r = normaliseRotation(q);
      if (!r) throw new PlaygroundApiError('rotation must be a finite quaternion of length ≈ 1');
      return r;
    };
    const encodeMessage = (from: number, type: string, payload: JsonValue): Uint8Array => {
      const typeBytes = Buffer.byteLength(type);
      if (typeBytes === 0 || typeBytes > EntityLimits.messageTypeBytes)
        throw new PlaygroundApiError(`message type must be 1–${EntityLimits.messageTypeBytes} bytes`);
      const json = JSON.stringify(payload);
      if (json === undefined || Buffer.byteLength(json) > EntityLimits.messagePayloadBytes)
        throw new PlaygroundApiError(
          `message payload must be JSON of at most ${EntityLimits.messagePayloadBytes} bytes`,
        );
      return encodeServerMessage(from, type, payload);
    };
    const log = this.log;
    const makeState = this.type.state;
    const made = makeState ? this.contained('state', () => makeState.call(this.type)) : null;
    const state = made?.ok ? made.value : undefined;
    return {
      playgroundId: pg.id,
      state,
      typeName: this.type.name,
      get tick() {
        return self.options.currentTick();
      },
      log,
      now: () => self.options.now(),
      members: () => [...self.records.values()].filter((r) => r.joined).map(toMember),
      member: (clientId) => {
        const r = self.records.get(clientId);
        return r?.joined ? toMember(r) : undefined;
      },
      entity: (id) => {
        const e = pg.get(id);
        return e ? view(e) : undefined;
      },
      entities: (kind) => {
        const out: EntityView[] = [];
        for (const e of pg.all()) if (kind === undefined || e.kind === kind) out.push(view(e));
        return out;
      },
      spawn(options: SpawnOptions): number {
        const kind = mustKind(options.kind);
        const position = options.position ?? ORIGIN;
        checkPlace(kind, position);
        const rotation = unitRotation(options.rotation ?? IDENTITY);
        const props = validateNewProps(kind.props ?? {}, options.props ?? {}, 'server');
        if (!props.ok) throw new PlaygroundApiError(`spawn ${options.kind}: ${props.reason}`);
        const owner = options.owner ?? SERVER_OWNER;
        if (owner !== SERVER_OWNER && !self.records.has(owner))
          throw new PlaygroundApiError(`owner ${owner} is not a member`);
        if (pg.entityCount >= self.maxEntities)
          throw new PlaygroundApiError('the playground holds too many entities');
        const e = pg.spawn({ owner, kind: options.kind, position, rotation, props: props.props });
        self.runtime.set(e.id, { spawner: SERVER_OWNER, motion: null, bucket: null });
        return e.id;
      },
      despawn(id: number): void {
        const e = mustEntity(id);
        for (const r of self.records.values())
          if (r.avatarId === id) throw new PlaygroundApiError('an avatar leaves with its client');
        self.removeEntity(e.id);
      },
      setEntity(id: number, change: EntityChange): void {
        const e = mustEntity(id);
        const kind = mustKind(e.kind);
        let props: Props | null = null;
        if (change.props) {
          const verdict = mergeProps(kind.props ?? {}, e.props, change.props, 'server');
          if (!verdict.ok) throw new PlaygroundApiError(`setEntity ${id}: ${verdict.reason}`);
          props = verdict.props;
        }
        if (change.position || change.rotation) {
          const position = change.position ?? e.position;
          checkPlace(kind, position);
          const rotation = unitRotation(change.rotation ?? e.rotation);
          pg.setTransform(id, position, rotation);
          // The owner's next move is measured from where the server put the entity.
          self.runtimeOf(e).motion = null;
        }
        if (props) pg.setProps(id, props);
      },
      grantAuthority(id: number, clientId: number): void {
        const e = mustEntity(id);
        if (!self.records.has(clientId)) throw new PlaygroundApiError(`client ${clientId} is not a member`);
        self.changeOwner(e, clientId);
      },
      revokeAuthority(id: number): void {
        self.changeOwner(mustEntity(id), SERVER_OWNER);
      },
      send(to, type, payload): void {
        const bytes = encodeMessage(SERVER_OWNER, type, payload);
        self.sendTo(typeof to === 'number' ? [to] : to, bytes);
      },
      broadcast(type, payload, options = {}): void {
        const bytes = encodeMessage(options.from ?? SERVER_OWNER, type, payload);
        for (const r of self.records.values()) if (r.joined && r.clientId !== options.except) r.send(bytes);
      },
      refuseJoin: (reason: string): JoinVerdict => ({ refuse: reason }),
      getPlayerData(clientId: number) {
        return self.options.services?.getPlayerData(clientId);
      },
      setPlayerData(clientId: number, data: Record<string, unknown>): void {
        if (typeof data !== 'object' || data === null || Array.isArray(data))
          throw new PlaygroundApiError('player data must be a JSON object');
        const json = JSON.stringify(data);
        if (Buffer.byteLength(json) > PLAYER_DATA_MAX_BYTES)
          throw new PlaygroundApiError(`player data must be at most ${PLAYER_DATA_MAX_BYTES} bytes of JSON`);
        const services = self.options.services;
        if (!self.records.get(clientId)?.joined || !services)
          throw new PlaygroundApiError(`client ${clientId} is not a member`);
        services.setPlayerData(clientId, JSON.parse(json) as Record<string, unknown>);
      },
      publishEvent(target, type, payload, options = {}) {
        checkTarget(target);
        if (!EVENT_TYPE.test(type))
          throw new PlaygroundApiError('event type must be 1–64 of A-Z a-z 0-9 . _ : -');
        const json = JSON.stringify(payload);
        if (json === undefined || Buffer.byteLength(json) > EVENT_MAX_PAYLOAD_BYTES)
          throw new PlaygroundApiError(
            `event payload must be JSON of at most ${EVENT_MAX_PAYLOAD_BYTES} bytes`,
          );
        let fromUserId: string | undefined;
        if (options.fromClientId !== undefined) {
          const from = self.records.get(options.fromClientId);
          if (!from?.joined) throw new PlaygroundApiError(`client ${options.fromClientId} is not a member`);
          // An incognito member is not named to the recipient (the envelope would carry the id).
          if (!from.incognito) fromUserId = from.userId;
        }
        const services = self.options.services;
        if (!services) return Promise.resolve(null);
        return services.publish({ target, type, payload, ...(fromUserId ? { fromUserId } : {}) });
      },
    };
  }
}

function checkTarget(target: EventTarget): void {
  const t = target as Record<string, unknown> | null;
  const okId = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= TARGET_ID_MAX;
  if (typeof t !== 'object' || t === null) throw new PlaygroundApiError('event target must be an object');
  if ('userId' in t ? okId(t.userId) : 'playgroundId' in t ? okId(t.playgroundId) : t.all === true) return;
  throw new PlaygroundApiError('event target must be { userId } | { playgroundId } | { all: true }');
}

function refused(error: ErrorName, message: string): Outcome {
  return { ok: false, error, message };
}

function isRefusal(v: unknown): v is JoinVerdict {
  return typeof v === 'object' && v !== null && 'refuse' in v;
}

function toMember(r: Member): Member {
  return {
    clientId: r.clientId,
    userId: r.userId,
    avatarId: r.avatarId,
    displayName: r.displayName,
    incognito: r.incognito,
  };
}

function view(e: Entity): EntityView {
  return {
    id: e.id,
    kind: e.kind,
    owner: e.owner,
    position: { ...e.position },
    rotation: { ...e.rotation },
    props: structuredClone(e.props),
  };
}
