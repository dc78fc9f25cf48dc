import type { Logger } from '@plexus/kit';
import {
  EntityLimits,
  EVENT_MAX_PAYLOAD_BYTES,
  type EventsPublishParams,
  type EventsPublishResult,
  type EventTarget,
  encodeServerMessage,
  type JsonValue,
  PLAYER_DATA_MAX_BYTES,
  type Quat,
  SERVER_OWNER,
  type Vec3,
} from '@plexus/protocol';
import type { EntityRules } from './entity-rules.ts';
import type { HookRunner } from './hook-runner.ts';
import { type LogicMembers, toMember } from './logic-members.ts';
import type { Entity, Playground } from './playground.ts';
import type {
  EntityChange,
  EntityView,
  JoinVerdict,
  PlaygroundApi,
  PlaygroundType,
  SpawnOptions,
} from './playground-type.ts';
import { PlaygroundApiError } from './playground-type.ts';
import { view } from './views.ts';

/** What the logic API needs from the host beyond the playground itself. */
export interface LogicServices {
  getPlayerData(clientId: number): Record<string, unknown> | undefined;
  /** False when the client is not a member. */
  setPlayerData(clientId: number, data: Record<string, unknown>): boolean;
  /** Resolves null when the event could not be published. */
  publish(params: EventsPublishParams): Promise<EventsPublishResult | null>;
}

export interface ApiParts {
  type: PlaygroundType;
  playground: Playground;
  rules: EntityRules;
  members: LogicMembers;
  hooks: HookRunner;
  log: Logger;
  now: () => number;
  currentTick: () => number;
  services?: LogicServices | undefined;
}

const EVENT_TYPE = /^[A-Za-z0-9._:-]{1,64}$/;
const TARGET_ID_MAX = 128;
const IDENTITY: Quat = { x: 0, y: 0, z: 0, w: 1 };
const ORIGIN: Vec3 = { x: 0, y: 0, z: 0 };

/**
 * The API handed to a playground type's hooks (docs/playground-logic.md). Every write goes through
 * the same entity rules as a client's frames (entity-rules.ts), as the server writer; a refused
 * write throws {@link PlaygroundApiError}.
 */
export function createPlaygroundApi(parts: ApiParts): PlaygroundApi {
  const { type, rules, members, hooks, services } = parts;
  const pg = parts.playground;
  const mustEntity = (id: number): Entity => {
    const e = pg.get(id);
    if (!e) throw new PlaygroundApiError(`no entity ${id}`);
    return e;
  };
  const encodeMessage = (from: number, msgType: string, payload: JsonValue): Uint8Array => {
    const typeBytes = Buffer.byteLength(msgType);
    if (typeBytes === 0 || typeBytes > EntityLimits.messageTypeBytes)
      throw new PlaygroundApiError(`message type must be 1–${EntityLimits.messageTypeBytes} bytes`);
    const json = JSON.stringify(payload);
    if (json === undefined || Buffer.byteLength(json) > EntityLimits.messagePayloadBytes)
      throw new PlaygroundApiError(
        `message payload must be JSON of at most ${EntityLimits.messagePayloadBytes} bytes`,
      );
    return encodeServerMessage(from, msgType, payload);
  };
  const makeState = type.state;
  const made = makeState ? hooks.run('state', () => makeState.call(type)) : null;
  return {
    playgroundId: pg.id,
    state: made?.ok ? made.value : undefined,
    typeName: type.name,
    get tick() {
      return parts.currentTick();
    },
    log: parts.log,
    now: () => parts.now(),
    members: () => members.list(),
    member: (clientId) => {
      const r = members.joined(clientId);
      return r ? toMember(r) : undefined;
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
      const owner = options.owner ?? SERVER_OWNER;
      if (owner !== SERVER_OWNER && !members.has(owner))
        throw new PlaygroundApiError(`owner ${owner} is not a member`);
      const verdict = rules.checkSpawn(
        'server',
        SERVER_OWNER,
        options.kind,
        options.position ?? ORIGIN,
        options.rotation ?? IDENTITY,
        options.props ?? {},
      );
      if (!verdict.ok) throw new PlaygroundApiError(`spawn ${options.kind}: ${verdict.message}`);
      return rules.commitSpawn(owner, SERVER_OWNER, options.kind, verdict.plan);
    },
    despawn(id: number): void {
      const e = mustEntity(id);
      if (members.isAvatar(id)) throw new PlaygroundApiError('an avatar leaves with its client');
      rules.remove(e.id);
    },
    setEntity(id: number, change: EntityChange): void {
      const e = mustEntity(id);
      const verdict = rules.checkChange('server', e, change);
      if (!verdict.ok) throw new PlaygroundApiError(`setEntity ${id}: ${verdict.message}`);
      rules.commitChange(e, verdict.plan);
    },
    grantAuthority(id: number, clientId: number): void {
      const e = mustEntity(id);
      if (!members.has(clientId)) throw new PlaygroundApiError(`client ${clientId} is not a member`);
      rules.changeOwner(e, clientId);
    },
    revokeAuthority(id: number): void {
      rules.changeOwner(mustEntity(id), SERVER_OWNER);
    },
    send(to, msgType, payload): void {
      members.sendTo(typeof to === 'number' ? [to] : to, encodeMessage(SERVER_OWNER, msgType, payload));
    },
    broadcast(msgType, payload, options = {}): void {
      members.broadcast(encodeMessage(options.from ?? SERVER_OWNER, msgType, payload), options.except);
    },
    refuseJoin: (reason: string): JoinVerdict => ({ refuse: reason }),
    getPlayerData(clientId: number) {
      return services?.getPlayerData(clientId);
    },
    setPlayerData(clientId: number, data: Record<string, unknown>): void {
      if (typeof data !== 'object' || data === null || Array.isArray(data))
        throw new PlaygroundApiError('player data must be a JSON object');
      const json = JSON.stringify(data);
      if (Buffer.byteLength(json) > PLAYER_DATA_MAX_BYTES)
        throw new PlaygroundApiError(`player data must be at most ${PLAYER_DATA_MAX_BYTES} bytes of JSON`);
      if (!members.joined(clientId) || !services)
        throw new PlaygroundApiError(`client ${clientId} is not a member`);
      services.setPlayerData(clientId, JSON.parse(json) as Record<string, unknown>);
    },
    publishEvent(target, eventType, payload, options = {}) {
      checkTarget(target);
      if (!EVENT_TYPE.test(eventType))
        throw new PlaygroundApiError('event type must be 1–64 of A-Z a-z 0-9 . _ : -');
      const json = JSON.stringify(payload);
      if (json === undefined || Buffer.byteLength(json) > EVENT_MAX_PAYLOAD_BYTES)
        throw new PlaygroundApiError(
          `event payload must be JSON of at most ${EVENT_MAX_PAYLOAD_BYTES} bytes`,
        );
      let fromUserId: string | undefined;
      if (options.fromClientId !== undefined) {
        const from = members.joined(options.fromClientId);
        if (!from) throw new PlaygroundApiError(`client ${options.fromClientId} is not a member`);
        // An incognito member is not named to the recipient (the envelope would carry the id).
        if (!from.incognito) fromUserId = from.userId;
      }
      if (!services) return Promise.resolve(null);
      return services.publish({ target, type: eventType, payload, ...(fromUserId ? { fromUserId } : {}) });
    },
  };
}

function checkTarget(target: EventTarget): void {
  const t = target as Record<string, unknown> | null;
  const okId = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= TARGET_ID_MAX;
  if (typeof t !== 'object' || t === null) throw new PlaygroundApiError('event target must be an object');
  if ('userId' in t ? okId(t.userId) : 'playgroundId' in t ? okId(t.playgroundId) : t.all === true) return;
  throw new PlaygroundApiError('event target must be { userId } | { playgroundId } | { all: true }');
}
