import {
  AuthorityAction,
  CloseCodes,
  closeCodeFor,
  dispatchFrame,
  type EndpointGrant,
  encodeLeave,
  encodePing,
  errorNameOf,
  type JsonValue,
  type PlexusEventEnvelope,
  type Props,
  type RedirectPayload,
  type ServerFrame,
  type ServerFrameHandlers,
  ServerOp,
  type StateFrame,
} from '@plexus/protocol';
import { Heartbeat } from './connection/heartbeat.ts';
import { Link } from './connection/link.ts';
import {
  isResumableClose,
  LIVENESS_CLOSE_CODE,
  type ReconnectPolicy,
  reconnectPolicy,
} from './connection/reconnect.ts';
import type { RequestOutcome } from './connection/requests.ts';
import { type EndpointResolver, type ResumeTrigger, resumeLink } from './connection/resumer.ts';
import { Emitter } from './emitter.ts';
import { EntityControl } from './entity-control.ts';
import { PlexusError, toPlexusError } from './errors.ts';
import type { EntityChange, EntitySample, KindMap, KindName, SpawnInput, TypedEntity } from './kinds.ts';
import type {
  ConnectionState,
  DisconnectInfo,
  MoveInput,
  PlaygroundEvents,
  PlaygroundOptions,
} from './playground-types.ts';
import { type Entity, EntityMirror } from './state/entity-mirror.ts';
import { Interpolator, TickClock, type Transform } from './state/interpolation.ts';

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
  /** Round-trip time measured by the last PING/PONG, ms (undefined until the first PONG). */
  rttMs: number | undefined;

  private link: Link | undefined;
  private phase: ConnectionState = 'connected';
  private ids: { clientId: number; selfId: number; serverId: string; tickRateHz: number };
  private resumeToken: string | undefined;
  private readonly emitter = new Emitter<PlaygroundEvents>();
  private readonly mirror: EntityMirror;
  private readonly interpolator: Interpolator;
  private clock: TickClock;
  private readonly now: () => number;
  private readonly options: PlaygroundOptions;
  private readonly policy: ReconnectPolicy | undefined;
  private readonly resolve: EndpointResolver | undefined;
  private readonly control: EntityControl;
  private readonly heartbeat: Heartbeat;
  private bytesOfEarlierLinks = 0;
  private frameTimeMs = 0;
  private leaving = false;
  private fatalError: PlexusError | undefined;
  private reconnectAbort: AbortController | undefined;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  /**
   * @internal Created by {@link connectPlayground} once the handshake is done. `resolve` asks the
   * balancer for the playground again (with the resume token); without it, only a REDIRECT can be
   * followed after a drop.
   */
  constructor(link: Link, options: PlaygroundOptions = {}, resolve?: EndpointResolver) {
    const welcome = link.welcome;
    this.playgroundId = welcome.playgroundId;
    this.ids = {
      clientId: welcome.clientId,
      selfId: welcome.selfId,
      serverId: welcome.serverId,
      tickRateHz: welcome.tickRateHz,
    };
    this.rttMs = undefined;
    this.options = options;
    this.now = options.now ?? defaultNow;
    this.policy = reconnectPolicy(options.reconnect);
    this.resolve = resolve;
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
      clientId: welcome.clientId,
      selfId: welcome.selfId,
      tickIntervalMs: this.clock.intervalMs,
      protocolVersion: link.protocolVersion,
      mirror: this.mirror,
      interpolator: this.interpolator,
      emitter: this.emitter,
      now: this.now,
      send: (bytes) => this.link?.send(bytes) ?? false,
      ping: () => this.heartbeat.ping(),
      record: (entity) => this.record(entity),
      ...(options.resultTimeoutMs !== undefined ? { resultTimeoutMs: options.resultTimeoutMs } : {}),
      ...(options.maxPendingRequests !== undefined ? { maxPendingRequests: options.maxPendingRequests } : {}),
    });
    this.heartbeat = new Heartbeat({
      pingIntervalMs: options.pingIntervalMs ?? 1000,
      livenessTimeoutMs: options.livenessTimeoutMs ?? 3000,
      now: this.now,
      sendPing: () => this.link?.send(encodePing(this.now())) ?? false,
      onDead: (silentMs) =>
        this.link?.close(
          LIVENESS_CLOSE_CODE,
          'liveness timeout',
          PlexusError.of(
            'CLIENT_LIVENESS_TIMEOUT',
            `Nothing received from ${this.serverId} for ${Math.round(silentMs)} ms`,
          ),
        ),
    });
    this.adopt(link, true);
  }

  /** Connection id the server gave this client (the `owner` of the entities it owns); may change on a resume. */
  get clientId(): number {
    return this.ids.clientId;
  }

  /** Entity id of this client's avatar; kept by a resume (see `reconnected`'s `selfChanged`). */
  get selfId(): number {
    return this.ids.selfId;
  }

  /** Id of the dedicated server hosting the playground; changes when a resume lands elsewhere. */
  get serverId(): string {
    return this.ids.serverId;
  }

  /** Simulation/replication rate of the server. */
  get tickRateHz(): number {
    return this.ids.tickRateHz;
  }

  /**
   * Every entity the client can see, by id. Read-only: the SDK updates it from the server. The same
   * Map (and the same entity objects, where ids survive) for the whole life of the handle, resumes
   * included.
   */
  get entities(): ReadonlyMap<number, Entity> {
    return this.mirror.entities;
  }

  /** This client's avatar (undefined only if the server removed it). */
  get self(): Entity | undefined {
    return this.mirror.entities.get(this.selfId);
  }

  /** `connected`, `reconnecting` (a drop is being resumed) or `disconnected` (ended for good). */
  get state(): ConnectionState {
    return this.phase;
  }

  /** True while joined and connected (false while reconnecting and once disconnected). */
  get connected(): boolean {
    return this.phase === 'connected';
  }

  /** Bytes of WebSocket messages received by this handle so far (payloads, before decoding; every connection). */
  get bytesReceived(): number {
    return this.bytesOfEarlierLinks + (this.link?.bytesReceived ?? 0);
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
    if (this.phase !== 'connected') return false;
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
    if (this.phase !== 'connected') return false;
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
   * the connection, then closes it locally if needed. While reconnecting, stops resuming at once.
   * Resolves once disconnected; never rejects. Nothing is resumed after `leave()`.
   */
  async leave(): Promise<void> {
    if (this.phase === 'disconnected') return;
    this.leaving = true;
    const link = this.link;
    if (!link) {
      this.finish({ code: CloseCodes.NORMAL, reason: 'leave' });
      return;
    }
    link.send(encodeLeave());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.leaveTimeoutMs ?? 2000);
    });
    await Promise.race([this.closedPromise, timeout]);
    clearTimeout(timer);
    if (this.state !== 'disconnected') link.close(CloseCodes.NORMAL, 'leave');
  }

  /** Takes over a joined connection: the first one, or the one a resume found. */
  private adopt(link: Link, initial = false): void {
    const { welcome, keyframe } = link;
    this.link = link;
    this.phase = 'connected';
    this.ids = {
      clientId: welcome.clientId,
      selfId: welcome.selfId,
      serverId: welcome.serverId,
      tickRateHz: welcome.tickRateHz,
    };
    if (welcome.resumeToken !== undefined) this.resumeToken = welcome.resumeToken;
    // The new server's ticks are unrelated to the old one's: start a new timeline.
    this.clock = new TickClock(welcome.tickRateHz);
    this.interpolator.clear();
    this.control.rebind(welcome.clientId, welcome.selfId, this.clock.intervalMs, link.protocolVersion);
    this.frameTimeMs = this.clock.timeOf(keyframe.tick, this.now());
    this.mirror.resync(keyframe);
    this.control.afterState();
    this.heartbeat.start();
    const attach = (): void =>
      link.attach({
        frame: (frame) => this.onFrame(link, frame),
        closed: (code, reason, error) => this.onClosed(link, code, reason, error),
      });
    // Frames that came with the welcome (an offline inbox's EVENTs, a MESSAGE) are handed over one
    // macrotask later on a first join, once `await client.join()` has returned and its caller added
    // listeners (later frames wait behind them); on a resume the listeners are there already.
    if (initial && link.holdsFrames) setTimeout(attach, 0);
    else attach();
  }

  private onFrame(link: Link, frame: ServerFrame): void {
    if (link !== this.link) return;
    this.heartbeat.received();
    dispatchFrame(this.handlers, frame);
  }

  /** One handler per server opcode (the frame table of docs/protocol.md §4). */
  private readonly handlers: ServerFrameHandlers = {
    [ServerOp.STATE]: (frame) => this.applyState(frame),
    [ServerOp.PONG]: (frame) => {
      this.rttMs = Math.max(0, this.now() - frame.clientTimeMs);
      this.control.onPong();
    },
    [ServerOp.RESULT]: (frame) => this.control.onResult(frame),
    [ServerOp.MOVE_ACK]: (frame) => this.control.onMoveAck(frame.lastAppliedSeq, frame.refused),
    [ServerOp.MESSAGE]: (frame) =>
      this.emitter.emit('message', { from: frame.from, type: frame.type, payload: frame.payload }),
    [ServerOp.ERROR]: (frame) => this.handleError(PlexusError.fromFrame(frame)),
    [ServerOp.REDIRECT]: (frame) => this.onRedirect(frame.redirect),
    // A malformed envelope is dropped rather than failing the whole connection for it.
    [ServerOp.EVENT]: (frame) => {
      if (isEventEnvelope(frame.event)) this.emitter.emit('event', frame.event);
    },
    [ServerOp.WELCOME]: () => {
      throw PlexusError.of('PROTOCOL_UNEXPECTED_FRAME', 'Second WELCOME from server');
    },
  };

  /** The current connection ended: resume it when the reason allows, else end the handle. */
  private onClosed(link: Link, code: number, reason: string, error?: PlexusError): void {
    if (link !== this.link) return;
    this.detach(link);
    const cause = this.fatalError ?? error;
    this.fatalError = undefined;
    const closed = PlexusError.of(
      'CLIENT_CONNECTION_CLOSED',
      `Connection closed (${code}${reason ? `: ${reason}` : ''})`,
      cause ? { cause } : {},
    );
    if (!this.leaving && this.policy && this.resolve && isResumableClose(code)) {
      this.control.close(closed);
      this.startResume(
        {
          reason: code === LIVENESS_CLOSE_CODE ? 'liveness' : 'closed',
          closeCode: code,
          error: cause ?? closed,
        },
        { code, reason },
      );
      return;
    }
    this.control.close(cause ?? closed);
    this.finish(cause ? { code, reason, error: cause } : { code, reason });
  }

  /**
   * REDIRECT (drain): the playground moved; connect straight to the new endpoint with the ticket
   * the old server got for us. An unusable redirect is ignored: the server then closes with 4014
   * and the client resumes through the balancer.
   */
  private onRedirect(redirect: RedirectPayload): void {
    const link = this.link;
    if (!link || !this.policy || this.leaving || !isRedirect(redirect, this.playgroundId)) return;
    this.detach(link);
    this.control.close(PlexusError.of('CLIENT_CONNECTION_CLOSED', 'The playground moved to another server'));
    link.close(CloseCodes.NORMAL, 'redirect');
    this.startResume(
      { reason: 'redirect', redirect: { endpoint: redirect.endpoint, ticket: redirect.ticket } },
      { code: CloseCodes.PLAYGROUND_MOVED, reason: 'redirect' },
    );
  }

  private detach(link: Link): void {
    this.link = undefined;
    this.bytesOfEarlierLinks += link.bytesReceived;
    this.heartbeat.stop();
  }

  private startResume(trigger: ResumeTrigger, drop: { code: number; reason: string }): void {
    this.phase = 'reconnecting';
    const abort = new AbortController();
    this.reconnectAbort = abort;
    // A dead link was dead since its last frame, not since the timeout noticed it.
    const startedAt = trigger.reason === 'liveness' ? this.heartbeat.lastFrameAt : this.now();
    const previousSelfId = this.selfId;
    const previousClientId = this.clientId;
    const ended = (error: PlexusError): void => this.finish({ ...drop, error });
    void resumeLink(
      trigger,
      {
        policy: this.policy as ReconnectPolicy,
        now: this.now,
        WebSocket: this.options.WebSocket,
        resolve: this.resolve,
        resumeToken: () => this.resumeToken,
        onAttempt: (info) => this.emitter.emit('reconnecting', info),
      },
      abort.signal,
    )
      .then((outcome) => {
        if (abort.signal.aborted || this.phase !== 'reconnecting') {
          // Left meanwhile: do not keep a restored avatar waiting for a resume.
          if (outcome.ok) {
            outcome.link.send(encodeLeave());
            outcome.link.close(CloseCodes.NORMAL, 'leave');
          }
          return;
        }
        if (!outcome.ok) {
          if ('error' in outcome) ended(outcome.error);
          return;
        }
        this.adopt(outcome.link);
        const welcome = outcome.link.welcome;
        this.emitter.emit('reconnected', {
          downtimeMs: Math.max(0, this.now() - startedAt),
          resumed: welcome.resumed === true,
          serverId: welcome.serverId,
          attempts: outcome.attempts,
          reason: trigger.reason,
          selfChanged: welcome.selfId !== previousSelfId,
          previousSelfId,
          previousClientId,
        });
      })
      .catch((err: unknown) => ended(toPlexusError(err, 'CLIENT_RECONNECT_FAILED', 'Resuming failed')));
  }

  /** Ends the handle for good (once): `disconnected`. */
  private finish(info: DisconnectInfo): void {
    if (this.phase === 'disconnected') return;
    this.phase = 'disconnected';
    this.heartbeat.stop();
    this.reconnectAbort?.abort();
    this.interpolator.clear();
    this.resolveClosed();
    this.emitter.emit('disconnected', info);
  }

  private applyState(frame: StateFrame): void {
    this.frameTimeMs = this.clock.timeOf(frame.tick, this.now());
    this.mirror.apply(frame);
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

function isRedirect(redirect: RedirectPayload, playgroundId: string): boolean {
  return (
    typeof redirect.endpoint === 'string' &&
    /^wss?:\/\//.test(redirect.endpoint) &&
    typeof redirect.ticket === 'string' &&
    redirect.ticket.length > 0 &&
    redirect.playgroundId === playgroundId
  );
}

function isEventEnvelope(event: PlexusEventEnvelope): boolean {
  return typeof event.id === 'string' && typeof event.type === 'string' && typeof event.at === 'number';
}
