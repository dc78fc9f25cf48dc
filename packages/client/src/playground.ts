import {
  AuthorityAction,
  dispatchFrame,
  type EndpointGrant,
  type FrameHandlers,
  type JsonValue,
  type PlexusEventEnvelope,
  type Props,
  ServerOp,
} from '@plexus/protocol';
import { Link } from './connection/link.ts';
import { reconnectPolicy } from './connection/reconnect.ts';
import type { RequestOutcome } from './connection/requests.ts';
import type { EndpointResolver } from './connection/resumer.ts';
import { Session, type SessionFrame } from './connection/session.ts';
import { Emitter } from './emitter.ts';
import { PlexusError } from './errors.ts';
import type { EntityChange, EntitySample, KindMap, KindName, SpawnInput, TypedEntity } from './kinds.ts';
import type { ConnectionState, MoveInput, PlaygroundEvents, PlaygroundOptions } from './playground-types.ts';
import { Requests } from './requests.ts';
import type { Entity } from './state/entity-mirror.ts';
import type { Transform } from './state/interpolation.ts';
import { World } from './state/world.ts';

const defaultNow = (): number => performance.now();

/**
 * A joined playground: the live mirror of its entities, events, the client's own avatar, and the
 * entities it spawns, holds and moves. Obtained from `PlexusClient.join()`; when it resolves,
 * `entities` already holds the whole snapshot, including the own avatar at `selfId`.
 *
 * `K` declares the props of each entity kind for TypeScript (see {@link KindMap}).
 *
 * Requests (`spawn`, `despawn`, `requestAuthority`, `releaseAuthority`, `transferAuthority`) resolve
 * to a {@link RequestOutcome} and never reject: `{ ok: true, entityId }` or `{ ok: false, error }`;
 * those in flight when the connection drops resolve with CLIENT_CONNECTION_CLOSED.
 *
 * Continuity: when the connection drops for a resumable reason (a lost link, a failed or stopping
 * server, a moved playground, the liveness timeout) the handle resumes by itself — it asks the
 * balancer again with the resume token of its last WELCOME, connects wherever the playground now
 * lives and takes the new keyframe in place — emitting `reconnecting` and `reconnected`; it ends
 * with `disconnected` only when that gives up (see {@link PlaygroundOptions.reconnect}).
 */
export class Playground<K extends KindMap = KindMap> {
  readonly playgroundId: string;
  private readonly emitter = new Emitter<PlaygroundEvents>();
  private readonly now: () => number;
  private readonly session: Session;
  private readonly world: World;
  private readonly requests: Requests;

  /**
   * @internal Created by {@link connectPlayground} once the handshake is done. `resolve` asks the
   * balancer for the playground again (with the resume token); without it, only a REDIRECT can be
   * followed after a drop.
   *
   * Inside (docs/architecture.md, "The SDK"): the session (connections, resume) feeds the world
   * (mirror, interpolation, prediction) and the requests; the world emits this handle's events.
   */
  constructor(link: Link, options: PlaygroundOptions = {}, resolve?: EndpointResolver) {
    this.playgroundId = link.welcome.playgroundId;
    this.now = options.now ?? defaultNow;
    this.session = new Session(
      link,
      {
        linked: (linked) => this.world.linked(linked),
        frame: (frame) => dispatchFrame(this.handlers, frame),
        unlinked: (error) => {
          this.world.unlinked();
          this.requests.close(error);
        },
        reconnecting: (info) => this.emitter.emit('reconnecting', info),
        reconnected: (info) => this.emitter.emit('reconnected', info),
        disconnected: (info) => {
          this.world.ended();
          this.emitter.emit('disconnected', info);
        },
      },
      { options, now: this.now, policy: reconnectPolicy(options.reconnect), resolve },
    );
    this.world = new World(link, this.session, this.emitter, {
      now: this.now,
      interpolationDelayMs: options.interpolationDelayMs,
    });
    this.requests = new Requests(
      {
        send: (bytes) => this.session.send(bytes),
        has: (id) => this.world.mirror.entities.has(id),
        granted: (id) => this.world.granted(id),
        relinquish: (id) => this.world.relinquish(id),
        tickIntervalMs: () => this.world.tickIntervalMs,
      },
      options,
    );
    this.emitter.on('entityAdded', (entity) => this.requests.entityAdded(entity.id));
    this.session.start(link);
  }

  /** Round-trip time measured by the last PING/PONG, ms (undefined until the first PONG). */
  get rttMs(): number | undefined {
    return this.session.rttMs;
  }

  /** Connection id the server gave this client (the `owner` of the entities it owns); may change on a resume. */
  get clientId(): number {
    return this.session.linked.welcome.clientId;
  }

  /** Entity id of this client's avatar; kept by a resume (see `reconnected`'s `selfChanged`). */
  get selfId(): number {
    return this.session.linked.welcome.selfId;
  }

  /** Id of the dedicated server hosting the playground; changes when a resume lands elsewhere. */
  get serverId(): string {
    return this.session.linked.welcome.serverId;
  }

  /** Simulation/replication rate of the server. */
  get tickRateHz(): number {
    return this.session.linked.welcome.tickRateHz;
  }

  /**
   * Every entity the client can see, by id. Read-only: the SDK updates it from the server. The same
   * Map (and the same entity objects, where ids survive) for the whole life of the handle, resumes
   * included.
   */
  get entities(): ReadonlyMap<number, Entity> {
    return this.world.mirror.entities;
  }

  /** This client's avatar (undefined only if the server removed it). */
  get self(): Entity | undefined {
    return this.world.mirror.entities.get(this.selfId);
  }

  /** `connected`, `reconnecting` (a drop is being resumed) or `disconnected` (ended for good). */
  get state(): ConnectionState {
    return this.session.phase;
  }

  /** True while joined and connected (false while reconnecting and once disconnected). */
  get connected(): boolean {
    return this.session.phase === 'connected';
  }

  /** Bytes of WebSocket messages received by this handle so far (payloads, before decoding; every connection). */
  get bytesReceived(): number {
    return this.session.bytesReceived;
  }

  /** Tick of the last STATE frame applied. */
  get tick(): number {
    return this.world.mirror.lastTick;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof PlaygroundEvents>(
    event: K,
    listener: (...args: PlaygroundEvents[K]) => void,
  ): () => void {
    return this.emitter.on(event, listener);
  }

  /** Removes a listener added with {@link on}. */
  off<K extends keyof PlaygroundEvents>(event: K, listener: (...args: PlaygroundEvents[K]) => void): void {
    this.emitter.off(event, listener);
  }

  /**
   * Moves the own avatar: `setEntity(selfId, input)`, sent as a MOVE frame. The caller throttles:
   * the server accepts 60 frames/s sustained (burst 120) and closes the connection with 1008
   * beyond; 10–20 moves/s while moving is plenty, since the server replicates at `tickRateHz`.
   * Returns false when nothing was sent (not connected — also while reconnecting: such moves are
   * dropped, not queued — or own avatar unknown).
   */
  move(input: MoveInput): boolean {
    return this.setEntity(this.selfId, input);
  }

  /**
   * Changes an entity this client owns (or its avatar): applies the change locally at once
   * (prediction: `entities`, `sample()` and entityChanged show it) and sends it. When the server
   * refuses it (ERROR `PROTOCOL_NOT_OWNER`, `PROTOCOL_INVALID_TRANSFORM`, `PROTOCOL_INVALID_PROPS`)
   * the entity snaps back to the server's state and `corrected` is emitted; an accepted change never
   * snaps. `props` keys are merged (null deletes a key). Returns false, sending nothing, when the
   * client does not own the entity or is not connected (closed, or reconnecting: the change is
   * dropped and not applied locally). Throttle like {@link move}.
   * Type the props with the kind: `pg.setEntity<'object'>(id, { props: { color: 'red' } })`.
   */
  setEntity<Kind extends KindName<K> = never>(
    id: number,
    change: EntityChange<[Kind] extends [never] ? Props : K[Kind]>,
  ): boolean {
    if (this.session.phase !== 'connected') return false;
    return this.world.setEntity(id, change as EntityChange);
  }

  /** True when this client may change entity `id` with {@link setEntity} (it owns it, or it is its avatar). */
  isOwner(id: number): boolean {
    return this.world.owns(id);
  }

  /**
   * Spawns an entity (where the playground type allows it: the default open-world type lets each
   * client spawn up to 16 `object`s). Resolves once the server answered and the entity is in
   * `entities` (or a few ticks later if it is out of view): `{ ok: true, entityId }`, or
   * `{ ok: false, error }` (e.g. `PROTOCOL_SPAWN_LIMIT`, `PROTOCOL_FORBIDDEN_BY_RULE`).
   */
  spawn<Kind extends KindName<K>>(input: SpawnInput<Kind, K[Kind]>): Promise<RequestOutcome> {
    return this.requests.spawn(input as SpawnInput);
  }

  /** Despawns an entity (one this client spawned, where the playground type allows it). */
  despawn(id: number): Promise<RequestOutcome> {
    return this.requests.despawn(id);
  }

  /**
   * Asks for authority over entity `id`. The server grants it when nobody holds it (first come,
   * first served; playground rules may refuse): `{ ok: true, entityId }`, after which
   * {@link isOwner} is true and `authorityChanged` has fired; or `{ ok: false, error }` with
   * `PROTOCOL_AUTHORITY_HELD` when someone else holds it.
   */
  requestAuthority(id: number): Promise<RequestOutcome> {
    return this.requests.authority(AuthorityAction.REQUEST, id);
  }

  /** Gives the authority over entity `id` back to the server. */
  releaseAuthority(id: number): Promise<RequestOutcome> {
    return this.requests.authority(AuthorityAction.RELEASE, id);
  }

  /** Hands the authority over entity `id` to another client (`clientId` = its `owner` value). */
  transferAuthority(id: number, clientId: number): Promise<RequestOutcome> {
    return this.requests.authority(AuthorityAction.TRANSFER, id, clientId);
  }

  /**
   * Sends a custom message (reliable, in order) to the playground: the server relays it to the other
   * clients (their `message` event, `from` = this `clientId`) and to the playground logic. `type` is
   * 1–64 bytes, the payload at most 8 KiB of JSON; larger ones throw a PlexusError
   * (COMMON_BAD_REQUEST / COMMON_PAYLOAD_TOO_LARGE). Returns false when not connected.
   */
  send(type: string, payload: JsonValue = null): boolean {
    if (this.session.phase !== 'connected') return false;
    return this.requests.sendMessage(type, payload);
  }

  /** The entities of one kind, with their props typed by `K`. */
  *entitiesOf<Kind extends KindName<K>>(kind: Kind): IterableIterator<TypedEntity<K[Kind]>> {
    for (const entity of this.world.mirror.entities.values()) {
      if (entity.kind === kind) yield entity as TypedEntity<K[Kind]>;
    }
  }

  /** Narrows an entity to a kind, typing its props. */
  isKind<Kind extends KindName<K>>(entity: Entity, kind: Kind): entity is Entity & TypedEntity<K[Kind]> {
    return entity.kind === kind;
  }

  /**
   * The render state of every entity at `renderTimeMs` (default now, on the clock of `options.now`):
   * remote entities interpolated `interpolationDelayMs` in the past (between received states only:
   * never ahead of the newest, never past a received position), entities this client moves at
   * their predicted local state. Call once per frame.
   */
  sample(renderTimeMs: number = this.now()): EntitySample[] {
    return this.world.sample(renderTimeMs);
  }

  /**
   * The transform to draw entity `id` with at `renderTimeMs` (default now, on the clock of
   * `options.now`, i.e. `performance.now()` / requestAnimationFrame time): remote entities are
   * interpolated `interpolationDelayMs` in the past, so they move smoothly between ticks; the own
   * avatar is returned as predicted. Undefined for unknown ids.
   */
  sampleTransform(id: number, renderTimeMs: number = this.now()): Transform | undefined {
    return this.world.sampleTransform(id, renderTimeMs);
  }

  /**
   * Leaves the playground: sends LEAVE and waits (at most `leaveTimeoutMs`) for the server to close
   * the connection, then closes it locally if needed. While reconnecting, stops resuming at once.
   * Resolves once disconnected; never rejects. Nothing is resumed after `leave()`.
   */
  leave(): Promise<void> {
    return this.session.leave();
  }

  /**
   * One handler per frame the session passes on (the frame table of docs/protocol.md §4; WELCOME,
   * REDIRECT and fatal ERRORs are the session's own).
   */
  private readonly handlers: FrameHandlers<SessionFrame['op'], SessionFrame> = {
    [ServerOp.STATE]: (frame) => this.world.state(frame),
    [ServerOp.PONG]: () => this.world.pong(),
    [ServerOp.MOVE_ACK]: (frame) => this.world.moveAck(frame.lastAppliedSeq, frame.refused),
    [ServerOp.RESULT]: (frame) => this.requests.result(frame),
    [ServerOp.MESSAGE]: (frame) =>
      this.emitter.emit('message', { from: frame.from, type: frame.type, payload: frame.payload }),
    // A non-fatal ERROR: a change may have been refused (the world verifies its predictions).
    [ServerOp.ERROR]: (frame) => {
      this.world.refusal();
      this.emitter.emit('error', PlexusError.fromFrame(frame));
    },
    // A malformed envelope is dropped rather than failing the whole connection for it.
    [ServerOp.EVENT]: (frame) => {
      if (isEventEnvelope(frame.event)) this.emitter.emit('event', frame.event);
    },
  };
}

/**
 * Opens the WebSocket of an endpoint grant, performs the handshake (HELLO with the ticket) and
 * resolves with the Playground once WELCOME and the first STATE keyframe have arrived. Rejects with
 * a PlexusError on an ERROR frame, a close, a malformed frame, or after `joinTimeoutMs`. With
 * `resolve` (how `PlexusClient.join` calls it) a dropped connection is resumed through the
 * balancer; without it, only a REDIRECT is followed.
 */
export async function connectPlayground<K extends KindMap = KindMap>(
  grant: EndpointGrant,
  options: PlaygroundOptions = {},
  resolve?: EndpointResolver,
): Promise<Playground<K>> {
  // Bad reconnect options throw here, before a socket is opened.
  reconnectPolicy(options.reconnect);
  const link = await Link.open(grant, {
    WebSocket: options.WebSocket,
    timeoutMs: options.joinTimeoutMs ?? 10_000,
  });
  return new Playground<K>(link, options, resolve);
}

function isEventEnvelope(event: PlexusEventEnvelope): boolean {
  return typeof event.id === 'string' && typeof event.type === 'string' && typeof event.at === 'number';
}
