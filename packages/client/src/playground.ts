import {
  AuthorityAction,
  CloseCodes,
  closeCodeFor,
  type EndpointGrant,
  encodeHello,
  encodeLeave,
  encodePing,
  errorNameOf,
  type JsonValue,
  PROTOCOL_VERSION,
  type Props,
  type Quat,
  type ServerFrame,
  ServerOp,
  type StateFrame,
  type Vec3,
  type Welcome,
} from '@plexus/protocol';
import type { RequestOutcome } from './connection/requests.ts';
import { FrameSocket, type WebSocketConstructor } from './connection/socket.ts';
import { Emitter } from './emitter.ts';
import { EntityControl } from './entity-control.ts';
import { PlexusError } from './errors.ts';
import type {
  EntityChange,
  EntitySample,
  KindMap,
  KindName,
  PlaygroundMessage,
  SpawnInput,
  TypedEntity,
} from './kinds.ts';
import { type Entity, type EntityField, EntityMirror } from './state/entity-mirror.ts';
import { Interpolator, TickClock, type Transform } from './state/interpolation.ts';

/** Why a playground connection ended. */
export interface DisconnectInfo {
  /** WebSocket close code (1000 after a normal leave; see docs/protocol.md for 4xxx codes). */
  code: number;
  reason: string;
  /** Set when the end was abnormal: the server's ERROR frame, a malformed frame, a lost link. */
  error?: PlexusError;
}

/** Events of a {@link Playground} and the arguments their listeners receive. */
export type PlaygroundEvents = {
  /** An entity appeared (someone joined, or came into view). */
  entityAdded: [entity: Entity];
  /** Fields of an entity changed; the entity object holds the new values. */
  entityChanged: [entity: Entity, changed: readonly EntityField[]];
  /** An entity disappeared (someone left, or went out of view). */
  entityRemoved: [entity: Entity];
  /** The connection ended; emitted once. */
  disconnected: [info: DisconnectInfo];
  /** A non-fatal ERROR frame (e.g. PROTOCOL_NOT_OWNER); the connection stays open. */
  error: [error: PlexusError];
  /**
   * The authority over an entity changed (owner = client id, 0 = the server): from the server's
   * owner updates, and at once when this client's own `requestAuthority` succeeds.
   */
  authorityChanged: [entity: Entity, previousOwner: number, newOwner: number];
  /** A custom message from another client (relayed by the server) or from the playground logic. */
  message: [message: PlaygroundMessage];
  /**
   * The server disagreed with a local prediction (a refused move or change, or the playground
   * logic moved the entity): the entity was snapped to the server's state.
   */
  corrected: [entity: Entity];
};

/** Connection tuning of playgrounds (all optional). */
export interface PlaygroundOptions {
  /** WebSocket constructor to use instead of the global one. */
  WebSocket?: WebSocketConstructor;
  /** Deadline for WELCOME + first keyframe after opening the socket, ms (default 10 000). */
  joinTimeoutMs?: number;
  /** Interval of PING frames, ms (default 5 000; the server's idle deadline is 15 s). */
  pingIntervalMs?: number;
  /** How long `leave()` waits for the server to close, ms (default 2 000). */
  leaveTimeoutMs?: number;
  /** How far in the past remote entities are sampled by `sample`/`sampleTransform`, ms (default 100). */
  interpolationDelayMs?: number;
  /** How long spawn/despawn/authority requests wait for the server's answer, ms (default 10 000). */
  resultTimeoutMs?: number;
  /** Requests awaiting an answer at once (default 64); beyond, requests fail with COMMON_RATE_LIMITED. */
  maxPendingRequests?: number;
  /** Monotonic clock in ms (default `performance.now()`); `sampleTransform` uses the same clock. */
  now?: () => number;
}

/** The position and/or rotation of a move; a missing field keeps its current value. */
export interface MoveInput {
  position?: Vec3;
  rotation?: Quat;
}

const defaultNow = (): number => performance.now();

/**
 * A joined playground: the live mirror of its entities, events, the client's own avatar, and the
 * entities it spawns, holds and moves. Obtained from `PlexusClient.join()`; when it resolves,
 * `entities` already holds the whole snapshot, including the own avatar at `selfId`.
 *
 * `K` declares the props of each entity kind for TypeScript (see {@link KindMap}).
 *
 * Requests (`spawn`, `despawn`, `requestAuthority`, `releaseAuthority`, `transferAuthority`) resolve
 * to a {@link RequestOutcome} and never reject: `{ ok: true, entityId }` or `{ ok: false, error }`.
 */
export class Playground<K extends KindMap = KindMap> {
  /** Connection id the server gave this client (the `owner` of the entities it owns). */
  readonly clientId: number;
  /** Entity id of this client's avatar. */
  readonly selfId: number;
  readonly playgroundId: string;
  /** Id of the dedicated server hosting the playground. */
  readonly serverId: string;
  /** Simulation/replication rate of the server. */
  readonly tickRateHz: number;
  /** Round-trip time measured by the last PING/PONG, ms (undefined until the first PONG). */
  rttMs: number | undefined;

  private readonly socket: FrameSocket;
  private readonly emitter = new Emitter<PlaygroundEvents>();
  private readonly mirror: EntityMirror;
  private readonly interpolator: Interpolator;
  private readonly clock: TickClock;
  private readonly now: () => number;
  private readonly leaveTimeoutMs: number;
  private readonly pingTimer: ReturnType<typeof setInterval>;
  private readonly control: EntityControl;
  private pingsSent = 0;
  private frameTimeMs = 0;
  private keyframed = false;
  private isClosed = false;
  private fatalError: PlexusError | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  /** @internal Created by {@link connectPlayground} when WELCOME arrives. */
  constructor(socket: FrameSocket, welcome: Welcome, options: PlaygroundOptions = {}) {
    this.socket = socket;
    this.clientId = welcome.clientId;
    this.selfId = welcome.selfId;
    this.playgroundId = welcome.playgroundId;
    this.serverId = welcome.serverId;
    this.tickRateHz = welcome.tickRateHz;
    this.rttMs = undefined;
    this.now = options.now ?? defaultNow;
    this.leaveTimeoutMs = options.leaveTimeoutMs ?? 2000;
    this.clock = new TickClock(welcome.tickRateHz);
    this.interpolator = new Interpolator({ delayMs: options.interpolationDelayMs ?? 100 });
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.mirror = new EntityMirror({
      entityAdded: (entity) => {
        this.record(entity);
        this.emitter.emit('entityAdded', entity);
        this.control.entityAdded(entity);
      },
      entityChanged: (entity, changed) => {
        if (
          !this.mirror.isPredicted(entity.id) &&
          (changed.includes('position') || changed.includes('rotation'))
        ) {
          this.record(entity);
        }
        this.emitter.emit('entityChanged', entity, changed);
      },
      entityRemoved: (entity) => {
        this.interpolator.delete(entity.id);
        this.control.entityRemoved(entity);
        this.emitter.emit('entityRemoved', entity);
      },
      ownerChanged: (entity, previousOwner) => this.control.ownerChanged(entity, previousOwner),
      serverUpdated: (entity, server) => this.control.serverUpdated(entity, server),
    });
    this.control = new EntityControl({
      clientId: this.clientId,
      selfId: this.selfId,
      tickIntervalMs: this.clock.intervalMs,
      mirror: this.mirror,
      interpolator: this.interpolator,
      emitter: this.emitter,
      now: this.now,
      send: (bytes) => this.socket.send(bytes),
      ping: () => this.ping(),
      record: (entity) => this.record(entity),
      ...(options.resultTimeoutMs !== undefined ? { resultTimeoutMs: options.resultTimeoutMs } : {}),
      ...(options.maxPendingRequests !== undefined ? { maxPendingRequests: options.maxPendingRequests } : {}),
    });
    this.ping();
    this.pingTimer = setInterval(() => this.ping(), options.pingIntervalMs ?? 5000);
  }

  /** Every entity the client can see, by id. Read-only: the SDK updates it from the server. */
  get entities(): ReadonlyMap<number, Entity> {
    return this.mirror.entities;
  }

  /** This client's avatar (undefined only if the server removed it). */
  get self(): Entity | undefined {
    return this.mirror.entities.get(this.selfId);
  }

  /** True until the connection ends. */
  get connected(): boolean {
    return !this.isClosed;
  }

  /** Bytes of WebSocket messages received on this connection so far (payloads, before decoding). */
  get bytesReceived(): number {
    return this.socket.bytesReceived;
  }

  /** Tick of the last STATE frame applied. */
  get tick(): number {
    return this.mirror.lastTick;
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
   * Returns false when nothing was sent (connection closed or own avatar unknown).
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
   * client does not own the entity or the connection is closed. Throttle like {@link move}.
   * Type the props with the kind: `pg.setEntity<'object'>(id, { props: { color: 'red' } })`.
   */
  setEntity<Kind extends KindName<K> = never>(
    id: number,
    change: EntityChange<[Kind] extends [never] ? Props : K[Kind]>,
  ): boolean {
    if (this.isClosed) return false;
    return this.control.setEntity(id, change as EntityChange);
  }

  /** True when this client may change entity `id` with {@link setEntity} (it owns it, or it is its avatar). */
  isOwner(id: number): boolean {
    return this.control.owns(id);
  }

  /**
   * Spawns an entity (where the playground type allows it: the default open-world type lets each
   * client spawn up to 16 `object`s). Resolves once the server answered and the entity is in
   * `entities` (or a few ticks later if it is out of view): `{ ok: true, entityId }`, or
   * `{ ok: false, error }` (e.g. `PROTOCOL_SPAWN_LIMIT`, `PROTOCOL_FORBIDDEN_BY_RULE`).
   */
  spawn<Kind extends KindName<K>>(input: SpawnInput<Kind, K[Kind]>): Promise<RequestOutcome> {
    return this.control.spawn(input as SpawnInput);
  }

  /** Despawns an entity (one this client spawned, where the playground type allows it). */
  despawn(id: number): Promise<RequestOutcome> {
    return this.control.despawn(id);
  }

  /**
   * Asks for authority over entity `id`. The server grants it when nobody holds it (first come,
   * first served; playground rules may refuse): `{ ok: true, entityId }`, after which
   * {@link isOwner} is true and `authorityChanged` has fired; or `{ ok: false, error }` with
   * `PROTOCOL_AUTHORITY_HELD` when someone else holds it.
   */
  requestAuthority(id: number): Promise<RequestOutcome> {
    return this.control.authority(AuthorityAction.REQUEST, id);
  }

  /** Gives the authority over entity `id` back to the server. */
  releaseAuthority(id: number): Promise<RequestOutcome> {
    return this.control.authority(AuthorityAction.RELEASE, id);
  }

  /** Hands the authority over entity `id` to another client (`clientId` = its `owner` value). */
  transferAuthority(id: number, clientId: number): Promise<RequestOutcome> {
    return this.control.authority(AuthorityAction.TRANSFER, id, clientId);
  }

  /**
   * Sends a custom message (reliable, in order) to the playground: the server relays it to the other
   * clients (their `message` event, `from` = this `clientId`) and to the playground logic. `type` is
   * 1–64 bytes, the payload at most 8 KiB of JSON; larger ones throw a PlexusError
   * (COMMON_BAD_REQUEST / COMMON_PAYLOAD_TOO_LARGE). Returns false when not connected.
   */
  send(type: string, payload: JsonValue = null): boolean {
    if (this.isClosed) return false;
    return this.control.sendMessage(type, payload);
  }

  /** The entities of one kind, with their props typed by `K`. */
  *entitiesOf<Kind extends KindName<K>>(kind: Kind): IterableIterator<TypedEntity<K[Kind]>> {
    for (const entity of this.mirror.entities.values()) {
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
    const out: EntitySample[] = [];
    for (const entity of this.mirror.entities.values()) {
      const t = this.sampleTransform(entity.id, renderTimeMs) as Transform;
      out.push({
        id: entity.id,
        kind: entity.kind,
        owner: entity.owner,
        props: entity.props,
        position: t.position,
        rotation: t.rotation,
        predicted: this.mirror.isPredicted(entity.id),
      });
    }
    return out;
  }

  /**
   * The transform to draw entity `id` with at `renderTimeMs` (default now, on the clock of
   * `options.now`, i.e. `performance.now()` / requestAnimationFrame time): remote entities are
   * interpolated `interpolationDelayMs` in the past, so they move smoothly between ticks; the own
   * avatar is returned as predicted. Undefined for unknown ids.
   */
  sampleTransform(id: number, renderTimeMs: number = this.now()): Transform | undefined {
    const entity = this.mirror.entities.get(id);
    if (!entity) return undefined;
    if (!this.mirror.isPredicted(id)) {
      const sampled = this.interpolator.sample(id, renderTimeMs);
      if (sampled) return sampled;
    }
    return { position: { ...entity.position }, rotation: { ...entity.rotation } };
  }

  /**
   * Leaves the playground: sends LEAVE and waits (at most `leaveTimeoutMs`) for the server to close
   * the connection, then closes it locally if needed. Resolves once disconnected; never rejects.
   */
  async leave(): Promise<void> {
    if (this.isClosed) return;
    this.socket.send(encodeLeave());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.leaveTimeoutMs);
    });
    await Promise.race([this.closedPromise, timeout]);
    clearTimeout(timer);
    if (!this.isClosed) this.socket.close(CloseCodes.NORMAL, 'leave');
  }

  /** @internal True once the first keyframe is applied. */
  get ready(): boolean {
    return this.keyframed;
  }

  /** @internal Handles one frame from the server. */
  receive(frame: ServerFrame): void {
    switch (frame.op) {
      case ServerOp.STATE:
        this.applyState(frame);
        return;
      case ServerOp.PONG:
        this.rttMs = Math.max(0, this.now() - frame.clientTimeMs);
        this.control.onPong();
        return;
      case ServerOp.RESULT:
        this.control.onResult(frame);
        return;
      case ServerOp.MESSAGE:
        this.emitter.emit('message', { from: frame.from, type: frame.type, payload: frame.payload });
        return;
      case ServerOp.ERROR:
        this.handleError(PlexusError.fromFrame(frame));
        return;
      case ServerOp.WELCOME:
        throw PlexusError.of('PROTOCOL_UNEXPECTED_FRAME', 'Second WELCOME from server');
    }
  }

  /** @internal The socket ended. */
  handleClose(code: number, reason: string, error?: PlexusError): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.pingTimer);
    this.interpolator.clear();
    const cause = this.fatalError ?? error;
    this.control.close(
      cause ??
        PlexusError.of(
          'CLIENT_CONNECTION_CLOSED',
          `Connection closed (${code}${reason ? `: ${reason}` : ''})`,
        ),
    );
    const info: DisconnectInfo = cause ? { code, reason, error: cause } : { code, reason };
    this.resolveClosed();
    this.emitter.emit('disconnected', info);
  }

  private applyState(frame: StateFrame): void {
    this.frameTimeMs = this.clock.timeOf(frame.tick, this.now());
    this.mirror.apply(frame);
    if (frame.keyframe) this.keyframed = true;
    this.control.afterState();
  }

  private record(entity: Entity): void {
    this.interpolator.record(entity.id, this.frameTimeMs, entity, this.clock.intervalMs * 1.5);
  }

  private handleError(error: PlexusError): void {
    const name = errorNameOf(error.code);
    if (name && closeCodeFor[name] !== undefined) {
      // Fatal: the server closes right after; report this error with the close.
      this.fatalError = error;
      return;
    }
    // A change may have been refused: verify the predicted entities against the server.
    this.control.onRefusal();
    this.emitter.emit('error', error);
  }

  /** Sends a PING; returns its ordinal (the server answers each with a PONG, in order). */
  private ping(): number {
    if (!this.isClosed && this.socket.send(encodePing(this.now()))) this.pingsSent++;
    return this.pingsSent;
  }
}

/**
 * Opens the WebSocket of an endpoint grant, performs the handshake (HELLO with the ticket) and
 * resolves with the Playground once WELCOME and the first STATE keyframe have arrived. Rejects with
 * a PlexusError on an ERROR frame, a close, a malformed frame, or after `joinTimeoutMs`.
 */
export function connectPlayground<K extends KindMap = KindMap>(
  grant: EndpointGrant,
  options: PlaygroundOptions = {},
): Promise<Playground<K>> {
  return new Promise<Playground<K>>((resolve, reject) => {
    let playground: Playground<K> | undefined;
    let pending = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (error?: PlexusError): void => {
      if (!pending) return;
      pending = false;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(playground as Playground<K>);
    };

    let socket: FrameSocket;
    try {
      socket = new FrameSocket(
        grant.endpoint,
        {
          onOpen: () => {
            socket.send(encodeHello(PROTOCOL_VERSION, grant.ticket));
          },
          onFrame: (frame) => {
            if (frame.op === ServerOp.ERROR && pending) {
              // Before the join completes every error is fatal (bad ticket, full server, …).
              const error = PlexusError.fromFrame(frame);
              settle(error);
              socket.close(CloseCodes.NORMAL, '', error);
              return;
            }
            if (playground) {
              playground.receive(frame);
              if (pending && playground.ready) settle();
              return;
            }
            if (frame.op === ServerOp.WELCOME) {
              playground = new Playground<K>(socket, checkWelcome(frame.welcome), options);
              return;
            }
            if (frame.op === ServerOp.PONG) return;
            throw PlexusError.of('PROTOCOL_UNEXPECTED_FRAME', 'STATE before WELCOME');
          },
          onClose: (code, reason, error) => {
            settle(
              error ??
                PlexusError.of(
                  'CLIENT_CONNECTION_CLOSED',
                  `Connection closed (${code}${reason ? `: ${reason}` : ''}) before the playground was joined`,
                ),
            );
            playground?.handleClose(code, reason, error);
          },
        },
        options.WebSocket,
      );
    } catch (err) {
      reject(err);
      return;
    }
    const timeoutMs = options.joinTimeoutMs ?? 10_000;
    timer = setTimeout(() => {
      const error = PlexusError.of(
        'CLIENT_TIMEOUT',
        `No welcome snapshot from ${grant.endpoint} within ${timeoutMs} ms`,
      );
      settle(error);
      socket.close(CloseCodes.NORMAL, 'join timeout', error);
    }, timeoutMs);
  });
}

function checkWelcome(welcome: Welcome): Welcome {
  const ok =
    Number.isInteger(welcome.clientId) &&
    Number.isInteger(welcome.selfId) &&
    typeof welcome.playgroundId === 'string' &&
    typeof welcome.serverId === 'string' &&
    typeof welcome.tickRateHz === 'number' &&
    welcome.tickRateHz > 0;
  if (!ok)
    throw PlexusError.of(
      'PROTOCOL_MALFORMED_FRAME',
      'WELCOME lacks clientId, selfId, playgroundId, serverId or tickRateHz',
    );
  return welcome;
}
