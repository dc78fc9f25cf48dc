import type { Logger } from '@plexus/kit';
import type { EventsPublishResult, EventTarget, JsonValue, Props, Quat, Vec3 } from '@plexus/protocol';
import type { EntityKind } from './entity-kinds.ts';

/**
 * The rules of a kind of playground, written by whoever deploys Plexus (docs/playground-logic.md).
 * A module default-exports one; the server loads it by name (config `playgroundTypes`) and runs
 * one instance of its hooks per playground mapped to it (config `playgroundTypeMap`).
 *
 * Hooks run on the server's single thread, between frames and ticks: they never race each other.
 * A hook that throws is contained: the error is logged, that one call fails (a join is refused, a
 * request gets PROTOCOL_LOGIC_ERROR, a tick's hook is skipped), and the playground carries on.
 * Whatever the hook did before throwing stays done.
 */
export interface PlaygroundType<S = unknown> {
  /** The name configs refer to; 1–64 of A-Z a-z 0-9 _ . -. */
  name: string;
  /**
   * Makes the private state of one playground (`api.state`): the type object is shared by every
   * playground of the type, so keep per-playground data here, not in module variables.
   */
  state?: () => S;
  /**
   * Entity kinds of this playground. `avatar` is built in (AVATAR_KIND) unless redefined here; any
   * other kind must be listed to be spawned, by clients or by the logic.
   */
  kinds?: Record<string, EntityKind>;
  limits?: PlaygroundLimits;
  /**
   * Area of interest of this type's playgrounds; keys left out take the server's defaults
   * (PLEXUS_DS_INTEREST_*). A meeting room can see everything; a large world keeps it tight.
   */
  interest?: { radiusM?: number; hysteresisM?: number; fullRateM?: number };
  /**
   * The playground was created (its first join is under way). Spawn the furniture here. Not called
   * when the playground is restored from a checkpoint (another server hosted it): `loadState` is.
   */
  onCreate?(api: PlaygroundApi<S>): void;
  /**
   * The logic's own part of a checkpoint (JSON, kept small: the whole checkpoint is bounded by
   * CHECKPOINT_MAX_BYTES). Called about once per checkpoint interval; keep it cheap.
   */
  saveState?(api: PlaygroundApi<S>): JsonValue | undefined;
  /**
   * The playground was restored from a checkpoint: its entities are back under their ids; `saved`
   * is what `saveState` last returned (undefined without it). Runs instead of `onCreate`.
   */
  loadState?(api: PlaygroundApi<S>, saved: JsonValue | undefined): void;
  /**
   * A client is joining: its avatar exists (`member.avatarId`), it is not yet among `members()`.
   * Return `api.refuseJoin(reason)` to turn it away (PROTOCOL_JOIN_REFUSED, close 4013).
   */
  onJoin?(api: PlaygroundApi<S>, member: Member): JoinVerdict | undefined;
  /**
   * A member left or was disconnected. After a LEAVE its avatar is gone and its authority went to
   * the server. After a dropped connection the avatar and the entities it held stay, frozen, for the
   * resume grace (PLEXUS_DS_RESUME_GRACE_MS); a resume runs `onJoin` again under a new client id
   * with the same avatar.
   */
  onLeave?(api: PlaygroundApi<S>, member: Member): void;
  /**
   * A client sent MESSAGE. Without this hook the playground refuses messages
   * (PROTOCOL_FORBIDDEN_BY_RULE).
   */
  onMessage?(api: PlaygroundApi<S>, from: Member, message: { type: string; payload: JsonValue }): void;
  /**
   * Asked before a client's SPAWN, DESPAWN or AUTHORITY request is granted, after the built-in
   * checks passed (kind allows it, limits, authority not held by another client). Return true to
   * grant (also a REQUEST of a kind that is not grabbable), false or a reason to refuse
   * (PROTOCOL_FORBIDDEN_BY_RULE), undefined for the default rule.
   */
  onRequest?(api: PlaygroundApi<S>, from: Member, request: ClientRequest): boolean | string | undefined;
  /** Once per server tick while the playground has members, after clients' moves were applied. */
  onTick?(api: PlaygroundApi<S>, tick: { tick: number; dtMs: number }): void;
  /** The playground is going away (empty for `playgroundIdleMs`, or the server stops). */
  onDispose?(api: PlaygroundApi<S>): void;
}

export interface PlaygroundLimits {
  /** Members at once; beyond → PROTOCOL_JOIN_REFUSED. Default: unlimited (server capacity). */
  maxMembers?: number;
  /** Entities alive at once, avatars included; beyond, spawns fail (PROTOCOL_SPAWN_LIMIT). Default 4096. */
  maxEntities?: number;
}

export type JoinVerdict = { refuse: string };

export type ClientRequest =
  | { action: 'spawn'; kind: string; position: Vec3; rotation: Quat; props: Props }
  | { action: 'despawn'; entity: EntityView }
  | { action: 'request'; entity: EntityView }
  | { action: 'transfer'; entity: EntityView; to: number };

/** A client in the playground, as the logic sees it. `userId` never goes on the wire. */
export interface Member {
  clientId: number;
  userId: string;
  avatarId: number;
  displayName: string;
  incognito: boolean;
}

/** A copy of an entity's state (changing it changes nothing: use `api.setEntity`). */
export interface EntityView {
  id: number;
  kind: string;
  /** Client id of the authority; 0 = the server. */
  owner: number;
  position: Vec3;
  rotation: Quat;
  props: Props;
}

export interface SpawnOptions {
  kind: string;
  position?: Vec3;
  rotation?: Quat;
  props?: Props;
  /** Client id to hold authority from the start (must be a member); default 0, the server. */
  owner?: number;
}

export interface EntityChange {
  position?: Vec3;
  rotation?: Quat;
  /** Merged into the props; a key set to null is removed. */
  props?: Props;
}

/**
 * What playground logic may do. Every call validates its input (kinds, props schema, bounds, sizes)
 * and throws PlaygroundApiError on a mistake, which fails the hook that made it.
 */
export interface PlaygroundApi<S = unknown> {
  readonly playgroundId: string;
  /** This playground's own state, made by the type's `state()` (undefined without it). */
  readonly state: S;
  readonly typeName: string;
  /** The current server tick number. */
  readonly tick: number;
  /** A logger bound to this playground. */
  readonly log: Logger;
  /** Monotonic milliseconds (the server's clock). */
  now(): number;

  members(): Member[];
  member(clientId: number): Member | undefined;
  entity(id: number): EntityView | undefined;
  /** Every entity, or those of one kind. */
  entities(kind?: string): EntityView[];

  /** Creates an entity; its id. Everyone sees it at the next tick. */
  spawn(options: SpawnOptions): number;
  despawn(id: number): void;
  /** Changes an entity, whoever holds it (the server is the final authority). */
  setEntity(id: number, change: EntityChange): void;
  /** Gives a member authority over an entity, taking it from whoever held it. */
  grantAuthority(id: number, clientId: number): void;
  /** Returns an entity's authority to the server. */
  revokeAuthority(id: number): void;

  /** Sends a MESSAGE (`from` 0 = the server) to one client or a group of clients. */
  send(to: number | readonly number[], type: string, payload: JsonValue): void;
  /** Sends a MESSAGE to every member, but `except`; `from` defaults to 0 (the server). */
  broadcast(type: string, payload: JsonValue, options?: { except?: number; from?: number }): void;

  /** The value onJoin returns to refuse a join; `reason` is sent to the client. */
  refuseJoin(reason: string): JoinVerdict;

  /**
   * The member's persistent data in this playground (a copy; saved with the player's record and
   * given back on their next join, here or on another server); undefined for a non-member.
   */
  getPlayerData(clientId: number): Record<string, unknown> | undefined;
  /** Replaces the member's data: a JSON object of at most PLAYER_DATA_MAX_BYTES. */
  setPlayerData(clientId: number, data: Record<string, unknown>): void;
  /**
   * Publishes an event through the backend to a user wherever they are, a playground, or everyone
   * (EVENT frames). `fromClientId` names the member it is sent for. Type and size are checked at
   * once (a mistake throws); the promise resolves with the backend's answer, or null when it could
   * not be published (never rejects).
   */
  publishEvent(
    target: EventTarget,
    type: string,
    payload: JsonValue,
    options?: { fromClientId?: number },
  ): Promise<EventsPublishResult | null>;
}

/** A mistake in a call of the playground API (fails the hook that made it). */
export class PlaygroundApiError extends Error {
  override name = 'PlaygroundApiError';
}

/** Identity helper that type-checks a playground type definition. */
export function definePlaygroundType<S>(type: PlaygroundType<S>): PlaygroundType<S> {
  return type;
}
