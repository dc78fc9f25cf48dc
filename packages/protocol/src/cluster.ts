import type { DisplayProfile } from './ticket.ts';
import type { Props, Quat, Vec3 } from './types.ts';

/**
 * Params and results of the control RPCs (control.ts `rpc`): the dedicated server's requests to the
 * backend, routed through its balancer socket, and to the balancer itself. The balancer sets
 * `serverId` from the socket's registration; a value sent by the server is overwritten.
 */

// ------------------------------------------------------------------ checkpoints (fenced)

/** An entity of a checkpoint. Ownership is by user id: client ids do not survive a move. */
export interface CheckpointEntity {
  id: number;
  kind: string;
  position: Vec3;
  rotation: Quat;
  props: Props;
  /** User id of the owner; null when the server owns it. */
  ownerUserId: string | null;
}

/** A present user's avatar at checkpoint time. */
export interface CheckpointAvatar {
  userId: string;
  entityId: number;
  position: Vec3;
  rotation: Quat;
  props: Props;
  /** Epoch ms when the user's presence began (session length survives a move). */
  joinedAt?: number | undefined;
  /** Player data set by playground logic (PlayerRecord.data), carried to the next host. */
  data?: Record<string, unknown> | undefined;
}

/** Everything a server needs to restore a playground elsewhere. Opaque JSON to the backend. */
export interface PlaygroundCheckpoint {
  /** Playground type name (PlaygroundType.name). */
  type: string;
  /** Next entity id to hand out, so restored and new ids never collide. */
  nextEntityId: number;
  entities: CheckpointEntity[];
  avatars: CheckpointAvatar[];
  /** Optional state of the playground type's logic. */
  logic?: unknown;
}

/** Largest checkpoint `state`, as JSON bytes; the backend refuses larger ones (CHECKPOINT_TOO_LARGE). */
export const CHECKPOINT_MAX_BYTES = 512 * 1024;

/**
 * `checkpoints.claim`: the calling server becomes the playground's only writer. The backend bumps
 * the playground's epoch atomically and returns it with the latest checkpoint (null when none).
 */
export interface CheckpointClaimParams {
  serverId: string;
  playgroundId: string;
}
export interface StoredCheckpoint {
  playgroundId: string;
  /** Epoch the checkpoint was written under. */
  epoch: number;
  /** Per-playground version, increasing across epochs. */
  version: number;
  serverId: string;
  state: PlaygroundCheckpoint;
  /** Epoch milliseconds. */
  savedAt: number;
}
export interface CheckpointClaimResult {
  epoch: number;
  checkpoint: StoredCheckpoint | null;
}

/**
 * `checkpoints.write`: accepted only when `epoch` is the playground's current epoch, `serverId` its
 * holder and `version` above the stored one; otherwise 409 CHECKPOINT_STALE and the server must stop
 * hosting the playground (it was moved).
 */
export interface CheckpointWriteParams {
  serverId: string;
  playgroundId: string;
  epoch: number;
  version: number;
  state: PlaygroundCheckpoint;
}
export interface CheckpointWriteResult {
  epoch: number;
  version: number;
}

// ------------------------------------------------------------------ player data and presence

/** A user's small persistent record in one playground. */
export interface PlayerRecord {
  userId: string;
  playgroundId: string;
  position: Vec3 | null;
  rotation: Quat | null;
  /** Custom data set by playground logic; at most PLAYER_DATA_MAX_BYTES of JSON. */
  data: Record<string, unknown>;
  updatedAt: number;
}

export const PLAYER_DATA_MAX_BYTES = 16 * 1024;

/** What a server saves of a player (all fields optional but the ids). */
export interface PlayerSave {
  userId: string;
  position?: Vec3 | undefined;
  rotation?: Quat | undefined;
  data?: Record<string, unknown> | undefined;
}

/**
 * `players.join`: the user is now present in the playground on this server. Returns their saved
 * record and takes (deletes) the events stored for them while they were offline.
 */
export interface PlayersJoinParams {
  serverId: string;
  userId: string;
  playgroundId: string;
}
export interface PlayersJoinResult {
  record: PlayerRecord | null;
  inbox: PlexusEventEnvelope[];
}

/** `players.save`: periodic batch save; also refreshes the users' presence. */
export interface PlayersSaveParams {
  serverId: string;
  playgroundId: string;
  players: PlayerSave[];
}
export interface PlayersSaveResult {
  saved: number;
}

/** `players.leave`: last save and end of presence. */
export interface PlayersLeaveParams extends PlayerSave {
  serverId: string;
  playgroundId: string;
  /** How long the user was in the playground, milliseconds. */
  sessionMs: number;
}

// ------------------------------------------------------------------ analytics

/** Event types every component records; others are allowed (a-z, 0-9, `.`, `_`, 1-64 chars). */
export type AnalyticsEventType = 'login' | 'join' | 'leave' | 'population' | 'refused' | 'error';

export interface AnalyticsEventInput {
  type: AnalyticsEventType | (string & {});
  /** Epoch milliseconds when it happened. */
  at: number;
  userId?: string | undefined;
  playgroundId?: string | undefined;
  serverId?: string | undefined;
  /** Small JSON object: e.g. `{ sessionMs }` for leave, `{ players }` for population, `{ reason }`. */
  data?: Record<string, unknown> | undefined;
}

/** Largest batch of `analytics.record`. */
export const ANALYTICS_MAX_BATCH = 1000;

/** `analytics.record`: appends a batch. */
export interface AnalyticsRecordParams {
  serverId?: string | undefined;
  events: AnalyticsEventInput[];
}
export interface AnalyticsRecordResult {
  accepted: number;
}

// ------------------------------------------------------------------ events (cross-server messages)

export type EventTarget = { userId: string } | { playgroundId: string } | { all: true };

/** Who published: an operator (backend RPC) or a dedicated server, on behalf of a user or not. */
export type EventSender =
  | { kind: 'operator' }
  | { kind: 'server'; serverId: string; userId?: string | undefined };

/** A published event as it travels backend → balancers → dedicated servers → clients. */
export interface PlexusEventEnvelope {
  /** Unique id (the backend's); servers drop duplicates by it. */
  id: string;
  target: EventTarget;
  /** Application event type: 1-64 characters of a-z, A-Z, 0-9, `.`, `_`, `-`, `:`. */
  type: string;
  payload: unknown;
  from: EventSender;
  /** Epoch milliseconds when the backend accepted it. */
  at: number;
}

/** Largest `payload`, as JSON bytes. */
export const EVENT_MAX_PAYLOAD_BYTES = 8 * 1024;

/** `events.publish` (operator RPC and control RPC alike). */
export interface EventsPublishParams {
  target: EventTarget;
  type: string;
  payload: unknown;
  /** Set by a server publishing for one of its users. */
  fromUserId?: string | undefined;
}
export interface EventsPublishResult {
  id: string;
  /** `live`: sent to the balancers; `stored`: the user is offline, kept for their next join. */
  delivery: 'live' | 'stored';
}

/** Path of the WebSocket where each balancer receives published events from the backend. */
export const EVENT_STREAM_PATH = '/api/v0/partner/events';

/** Message on the event stream (backend → balancer, JSON text). */
export interface EventStreamMessage {
  type: 'event';
  event: PlexusEventEnvelope;
}

/**
 * Also on the event stream: a user's profile changed or one of their sessions was logged out. A
 * balancer drops what it cached about that user, so their next join sees the change (api.md).
 */
export interface UserChangedMessage {
  type: 'userChanged';
  userId: string;
}

// ------------------------------------------------------------------ balancer: relocation (drain)

/**
 * `lb.relocate`: the draining server asks for a new home for a playground and tickets for its users.
 * The balancer picks a live, non-draining server, maps the playground to it, and signs one ticket per
 * user carrying their resume token.
 */
export interface RelocateParams {
  serverId: string;
  playgroundId: string;
  users: { userId: string; profile: DisplayProfile; resumeToken: string }[];
}
export interface RelocateResult {
  serverId: string;
  endpoint: string;
  /** userId → ticket. */
  tickets: Record<string, string>;
}
