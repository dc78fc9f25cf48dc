import type { Logger } from '@plexus/kit';
import {
  type AuthorityActionCode,
  EntityLimits,
  type ErrorName,
  type JsonValue,
  type Props,
  type Quat,
  SERVER_OWNER,
  type Vec3,
} from '@plexus/protocol';
import { authorityRequest, type RuleVerdict } from './authority.ts';
import { AVATAR, type EntityKind } from './entity-kinds.ts';
import { EntityRules, type MoveVerdict, type Outcome, refused } from './entity-rules.ts';
import { type HookResult, HookRunner } from './hook-runner.ts';
import { createPlaygroundApi, type LogicServices } from './logic-api.ts';
import { LogicMembers, type MemberHandle, toMember } from './logic-members.ts';
import type { Playground } from './playground.ts';
import type {
  ClientRequest,
  EntityChange,
  EntityView,
  JoinVerdict,
  PlaygroundApi,
  PlaygroundType,
} from './playground-type.ts';
import { view } from './views.ts';

export type { MoveVerdict, Outcome } from './entity-rules.ts';
export type { LogicServices } from './logic-api.ts';
export type { MemberHandle } from './logic-members.ts';

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

/** An entity of a checkpoint, with its owner already mapped to a client id of this server. */
export type RestoredEntity = EntityView;

const IDENTITY: Quat = { x: 0, y: 0, z: 0, w: 1 };
const REASON_MAX = 256;

/**
 * The rules of one playground, composed of its parts (docs/architecture.md, "Playground logic in parts"):
 * the members as hooks see them (logic-members.ts), the entity rules both writers share
 * (entity-rules.ts), authority (authority.ts), the hook runner that contains user code
 * (hook-runner.ts) and the API handed to the hooks (logic-api.ts). The room's members and the host
 * call in here; nothing here touches sockets except through `MemberHandle.send`.
 */
export class PlaygroundLogic {
  readonly type: PlaygroundType;
  readonly api: PlaygroundApi;
  private readonly playground: Playground;
  private readonly rules: EntityRules;
  private readonly members = new LogicMembers();
  private readonly hooks: HookRunner;

  constructor(options: PlaygroundLogicOptions) {
    this.type = options.type;
    this.playground = options.playground;
    const log = options.logger.child({ playgroundType: options.type.name });
    this.rules = new EntityRules(options.type, options.playground, options.now, options.maxSpeedMps);
    this.hooks = new HookRunner(log, options.now, options.onLogicError);
    this.api = createPlaygroundApi({
      type: this.type,
      playground: this.playground,
      rules: this.rules,
      members: this.members,
      hooks: this.hooks,
      log,
      now: options.now,
      currentTick: options.currentTick,
      services: options.services,
    });
  }

  kind(name: string): EntityKind | undefined {
    return this.rules.kind(name);
  }

  // ------------------------------------------------------------ lifecycle (called by the host)

  create(): void {
    const { onCreate } = this.type;
    if (onCreate) this.hook('onCreate', () => onCreate.call(this.type, this.api));
  }

  /** The avatar of a joining client (props from its verified ticket, written by the server). */
  spawnAvatar(clientId: number, position: Vec3, props: Props, rotation: Quat = IDENTITY): number {
    return this.rules.commitSpawn(clientId, SERVER_OWNER, AVATAR, { position, rotation, props });
  }

  /**
   * Runs `onJoin` for a client whose avatar exists. On refusal the avatar is removed and the
   * error to send is returned; on success the client is a member.
   */
  join(handle: MemberHandle, replacing?: number): { error: ErrorName; message: string } | null {
    const max = this.type.limits?.maxMembers;
    const seats = this.memberCount - (replacing !== undefined && this.members.joined(replacing) ? 1 : 0);
    if (max !== undefined && seats >= max) {
      this.releaseAll(handle.clientId);
      this.rules.remove(handle.avatarId);
      return { error: 'PROTOCOL_JOIN_REFUSED', message: 'The playground is full' };
    }
    const record = this.members.add(handle);
    const { onJoin } = this.type;
    if (onJoin) {
      const result = this.hook('onJoin', () => onJoin.call(this.type, this.api, toMember(record)));
      const refusal = !result.ok
        ? 'The playground could not admit you (its logic failed)'
        : isRefusal(result.value)
          ? String(result.value.refuse).slice(0, REASON_MAX) || 'Refused by the playground'
          : null;
      if (refusal !== null) {
        this.members.remove(handle.clientId);
        this.releaseAll(handle.clientId);
        this.rules.remove(handle.avatarId);
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
    const record = this.members.remove(clientId);
    if (!record) return;
    this.rules.remove(record.avatarId);
    this.releaseAll(clientId);
    this.onLeave(record);
  }

  /**
   * A member's connection dropped: it stops being a member (`onLeave` runs) but its avatar and the
   * entities it holds stay as they are, for a resume to take back (`transferAll`).
   */
  detach(clientId: number): void {
    const record = this.members.remove(clientId);
    if (record) this.onLeave(record);
  }

  private onLeave(record: MemberHandle & { joined: boolean }): void {
    const { onLeave } = this.type;
    if (onLeave && record.joined)
      this.hook('onLeave', () => onLeave.call(this.type, this.api, toMember(record)));
  }

  /** Every entity `from` holds (an absent user's avatar included) now belongs to `to`. */
  transferAll(from: number, to: number): void {
    this.rules.transferAll(from, to);
  }

  /** Every entity `clientId` holds goes back to the server. */
  releaseAll(clientId: number): void {
    this.rules.transferAll(clientId, SERVER_OWNER);
  }

  /** Removes an avatar whose user is gone for good (the resume grace ran out). */
  removeAvatar(id: number): void {
    if (this.playground.get(id)?.kind === AVATAR) this.rules.remove(id);
  }

  /**
   * Puts back an entity of a checkpoint under its id, if its kind, props and place are still valid
   * here (the type may have changed since); false when it was dropped.
   */
  restoreEntity(e: RestoredEntity): boolean {
    return this.rules.restore(e);
  }

  /** The type's `saveState`, contained; undefined without it or when it failed. */
  saveState(): JsonValue | undefined {
    const { saveState } = this.type;
    if (!saveState) return undefined;
    const result = this.hook('saveState', () => saveState.call(this.type, this.api));
    return result.ok ? result.value : undefined;
  }

  /** A restored playground: `loadState` runs instead of `onCreate`. */
  loadState(saved: JsonValue | undefined): void {
    const { loadState } = this.type;
    if (loadState) this.hook('loadState', () => loadState.call(this.type, this.api, saved));
  }

  get hasSaveState(): boolean {
    return this.type.saveState !== undefined;
  }

  tick(tick: number, dtMs: number): void {
    const { onTick } = this.type;
    if (onTick) this.hook('onTick', () => onTick.call(this.type, this.api, { tick, dtMs }));
  }

  dispose(): void {
    const { onDispose } = this.type;
    if (onDispose) this.hook('onDispose', () => onDispose.call(this.type, this.api));
  }

  get memberCount(): number {
    return this.members.count;
  }

  // ------------------------------------------------------------ client frames (docs/protocol.md §5.7)

  /** MOVE (and the transform of SET_ENTITY): authority, update rate, bounds, rotation, speed. */
  checkMove(clientId: number, entityId: number, position: Vec3, rotation: Quat): MoveVerdict {
    const write = this.rules.checkClientWrite(clientId, entityId, 'PROTOCOL_NOT_OWNER');
    if (!write.ok) return write;
    return this.rules.checkMotion(write.entity, position, rotation);
  }

  /**
   * SET_ENTITY: all or nothing. Props are applied at once; the transform (when given) is returned
   * for the member to queue like a MOVE. `base` is the member's queued move of the entity.
   */
  setEntity(
    clientId: number,
    entityId: number,
    change: EntityChange,
    base: { position: Vec3; rotation: Quat } | undefined,
  ): MoveVerdict | { ok: true; position?: undefined; rotation?: undefined } {
    const write = this.rules.checkClientWrite(clientId, entityId, 'PROTOCOL_UNKNOWN_ENTITY');
    if (!write.ok) return write;
    const verdict = this.rules.checkChange('client', write.entity, change, base);
    if (!verdict.ok) return verdict;
    const { props, transform } = verdict.plan;
    if (props) this.rules.commitChange(write.entity, { props, transform: null });
    return transform ? { ok: true, ...transform } : { ok: true };
  }

  spawnRequest(
    clientId: number,
    frame: { kind: string; position: Vec3; rotation: Quat; props: Props },
  ): Outcome {
    const verdict = this.rules.checkSpawn(
      'client',
      clientId,
      frame.kind,
      frame.position,
      frame.rotation,
      frame.props,
    );
    if (!verdict.ok) return verdict;
    const { plan } = verdict;
    const rule = this.askRule(clientId, {
      action: 'spawn',
      kind: frame.kind,
      position: { ...plan.position },
      rotation: plan.rotation,
      props: structuredClone(plan.props),
    });
    if (rule) return rule;
    return { ok: true, value: this.rules.commitSpawn(clientId, clientId, frame.kind, plan) };
  }

  despawnRequest(clientId: number, entityId: number): Outcome {
    const entity = this.playground.get(entityId);
    if (!entity) return refused('PROTOCOL_UNKNOWN_ENTITY', `No entity ${entityId}`);
    if (entity.owner !== clientId) return refused('PROTOCOL_NOT_OWNER', `Entity ${entityId} is not yours`);
    const kind = this.rules.kind(entity.kind);
    if (!(kind?.clientDespawn ?? Boolean(kind?.clientSpawn)) || entity.kind === AVATAR) {
      return refused('PROTOCOL_FORBIDDEN_BY_RULE', `Clients may not despawn "${entity.kind}" here`);
    }
    const rule = this.askRule(clientId, { action: 'despawn', entity: view(entity) });
    if (rule) return rule;
    this.rules.remove(entityId);
    return { ok: true, value: entityId };
  }

  authorityRequest(clientId: number, action: AuthorityActionCode, entityId: number, target: number): Outcome {
    return authorityRequest(
      {
        playground: this.playground,
        rules: this.rules,
        isMember: (id) => this.members.joined(id) !== undefined,
        ruleVerdict: (id, request) => this.ruleVerdict(id, request),
      },
      clientId,
      action,
      entityId,
      target,
    );
  }

  /** A client MESSAGE: handed to the type's onMessage. */
  message(clientId: number, type: string, payload: JsonValue): Outcome {
    const record = this.members.record(clientId);
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
    const result = this.hook('onMessage', () =>
      onMessage.call(this.type, this.api, toMember(record), { type, payload }),
    );
    if (!result.ok) return refused('PROTOCOL_LOGIC_ERROR', `The playground logic failed on "${type}"`);
    return { ok: true, value: 0 };
  }

  // ------------------------------------------------------------ the type's request rule

  private ruleVerdict(clientId: number, request: ClientRequest): RuleVerdict {
    const { onRequest } = this.type;
    const record = this.members.record(clientId);
    if (!onRequest || !record) return {};
    const result = this.hook('onRequest', () =>
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

  private hook<T>(name: string, fn: () => T): HookResult<T> {
    return this.hooks.run(name, fn);
  }
}

function isRefusal(v: unknown): v is JoinVerdict {
  return typeof v === 'object' && v !== null && 'refuse' in v;
}
