import type { PlexusEventEnvelope, Quat, Vec3 } from '@plexus/protocol';
import type { ReconnectOptions } from './connection/reconnect.ts';
import type { ReconnectedInfo, ReconnectingInfo } from './connection/resumer.ts';
import type { WebSocketConstructor } from './connection/socket.ts';
import type { PlexusError } from './errors.ts';
import type { PlaygroundMessage } from './kinds.ts';
import type { Entity, EntityField } from './state/entity-mirror.ts';

// The public types of a playground handle: its options, events and their arguments.

/** Why a playground handle ended. */
export interface DisconnectInfo {
  /** WebSocket close code (1000 after a normal leave; see docs/protocol.md for 4xxx codes). */
  code: number;
  reason: string;
  /**
   * Set when the end was abnormal: the server's ERROR frame, a malformed frame, a lost link that
   * could not be resumed (`CLIENT_RECONNECT_FAILED`, its `cause` the last attempt's failure).
   */
  error?: PlexusError;
}

/** Where a playground handle stands: joined, resuming after a drop, or ended for good. */
export type ConnectionState = 'connected' | 'reconnecting' | 'disconnected';

/** Events of a {@link Playground} and the arguments their listeners receive. */
export type PlaygroundEvents = {
  /** An entity appeared (someone joined, or came into view). */
  entityAdded: [entity: Entity];
  /** Fields of an entity changed; the entity object holds the new values. */
  entityChanged: [entity: Entity, changed: readonly EntityField[]];
  /** An entity disappeared (someone left, or went out of view). */
  entityRemoved: [entity: Entity];
  /**
   * The handle ended for good; emitted once: after `leave()`, a fatal close, or when resuming a
   * dropped connection gave up. Not emitted for a drop that is being resumed (see `reconnecting`).
   */
  disconnected: [info: DisconnectInfo];
  /**
   * The connection dropped for a resumable reason (or the server redirected the client) and an
   * attempt to resume is about to start; emitted before each attempt. Moves and changes are
   * dropped and requests fail with CLIENT_CONNECTION_CLOSED until `reconnected`.
   */
  reconnecting: [info: ReconnectingInfo];
  /**
   * The handle is connected again (maybe to another server): `entities` (the same Map, the same
   * entity objects where ids survived) holds the new keyframe, `selfId`/`clientId`/`serverId` are
   * current.
   */
  reconnected: [info: ReconnectedInfo];
  /** A non-fatal ERROR frame (e.g. PROTOCOL_NOT_OWNER); the connection stays open. */
  error: [error: PlexusError];
  /**
   * The authority over an entity changed (owner = client id, 0 = the server): from the server's
   * owner updates, and at once when this client's own `requestAuthority` succeeds.
   */
  authorityChanged: [entity: Entity, previousOwner: number, newOwner: number];
  /** A custom message from another client (relayed by the server) or from the playground logic. */
  message: [message: PlaygroundMessage];
  /** A published event for this user, this playground or everyone (backend `events.publish`). */
  event: [event: PlexusEventEnvelope];
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
  /** Interval of PING frames, ms (default 1 000; the server's idle deadline is 15 s). */
  pingIntervalMs?: number;
  /**
   * When nothing at all (no STATE, no PONG) arrived for this long after a PING, the connection is
   * considered dead (a frozen server, a partition): the SDK closes it and resumes. Ms (default
   * 3 000; 0 turns the check off).
   */
  livenessTimeoutMs?: number;
  /**
   * Resuming after a dropped connection (see `reconnecting`/`reconnected`): backoff and limits, or
   * `false` to end the handle on any drop (a REDIRECT is then not followed either).
   */
  reconnect?: ReconnectOptions | false;
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
