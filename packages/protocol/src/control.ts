/**
 * Messages of the control channel between a dedicated server (DS) and the load balancer (LB):
 * one WebSocket per DS, opened by the DS to `CONTROL_PATH` with
 * `Authorization: Bearer <cluster secret>`, carrying JSON text frames. Liveness uses WebSocket
 * ping/pong from the LB.
 */

import type { PlayerRecord, PlexusEventEnvelope } from './cluster.ts';

/** Path on the balancer's HTTP port where dedicated servers open their control socket. */
export const CONTROL_PATH = '/lb/control/v0';

/** First message from the DS; nothing else is accepted before it. */
export interface RegisterMessage {
  type: 'register';
  serverId: string;
  /** Public WebSocket URL clients connect to, e.g. ws://127.0.0.1:8100/ws. */
  endpoint: string;
  /** Maximum number of players the server accepts across its playgrounds. */
  capacity: number;
  version: string;
  protocolVersion: number;
  /** Playgrounds the server already hosts (after a balancer restart the mapping is rebuilt from this). */
  playgrounds: PlaygroundLoad[];
}

export interface PlaygroundLoad {
  playgroundId: string;
  players: number;
  /**
   * Fencing epoch the server holds for this playground (from `checkpoints.claim`). On a conflict the
   * balancer keeps the mapping with the higher epoch and sends `release` to the other server.
   */
  epoch?: number | undefined;
  /**
   * Milliseconds since the playground's state was last known to be saved (a checkpoint accepted, or
   * the claim that restored it), at report time. Optional: older servers omit it.
   */
  checkpointAgeMs?: number | undefined;
}

/** Periodic load report (about every second). */
export interface LoadMessage {
  type: 'load';
  players: number;
  playgrounds: PlaygroundLoad[];
  /** Process CPU use over the last interval, 0..1 per core. */
  cpu: number;
  /** Mean tick duration over the last interval, milliseconds. */
  tickMs: number;
  /** Entities across all playgrounds (avatars included). Optional: older servers omit it. */
  entities?: number | undefined;
  /** Clients admitted to a playground (today the same as `players`). */
  clients?: number | undefined;
  /** STATE bytes sent to clients per second over the last interval. */
  bytesOutPerSec?: number | undefined;
  /** Median tick duration over the last interval, milliseconds. */
  tickP50Ms?: number | undefined;
  /** 99th percentile tick duration over the last interval, milliseconds. */
  tickP99Ms?: number | undefined;
  /**
   * Checkpoint lag, milliseconds: the largest `checkpointAgeMs` among playgrounds with changes not
   * yet saved (0 when every playground's latest state is saved).
   */
  checkpointLagMs?: number | undefined;
  /** Client ticks skipped by backpressure over the last interval. */
  backpressureSkips?: number | undefined;
  /** True once the server is draining (SIGTERM or a drain command): place nothing new on it. */
  draining?: boolean | undefined;
}

/** Sent when a client presents a ticket and is admitted: its reserved seat is now a player. */
export interface TicketRedeemedMessage {
  type: 'ticketRedeemed';
  jti: string;
  playgroundId: string;
}

/**
 * A request from the DS that the balancer answers with `rpcResult` of the same `id`. Methods in
 * `BACKEND_CONTROL_METHODS` are forwarded to the backend's partner RPC
 * `POST /api/v0/partnerRpc/<method>` with `serverId` (the socket's registered id) set in `params`,
 * so a server can never speak for another; `lb.*` methods are answered by the balancer itself.
 * Shapes of params and results: cluster.ts.
 */
export interface RpcMessage {
  type: 'rpc';
  /** Unique per socket among requests in flight; 1..2^31-1. */
  id: number;
  method: ControlRpcMethod;
  params: Record<string, unknown>;
}

export type ServerToBalancer = RegisterMessage | LoadMessage | TicketRedeemedMessage | RpcMessage;

/** Control RPCs the balancer forwards to the backend (partner RPC names). */
export const BACKEND_CONTROL_METHODS = [
  'checkpoints.claim',
  'checkpoints.write',
  'players.join',
  'players.save',
  'players.leave',
  'analytics.record',
  'events.publish',
] as const;

/** Control RPCs the balancer answers itself. */
export const BALANCER_CONTROL_METHODS = ['lb.relocate'] as const;

export type ControlRpcMethod =
  | (typeof BACKEND_CONTROL_METHODS)[number]
  | (typeof BALANCER_CONTROL_METHODS)[number];

/** Answer to an `rpc`: `data` on success, else the error envelope's `error` part. */
export interface RpcResultMessage {
  type: 'rpcResult';
  id: number;
  data?: unknown;
  error?: { status: number; code: number; message: string } | undefined;
}

/**
 * A published event for the DS to deliver to its clients (backend → balancer → every DS that may
 * host the target). A DS connected to several balancers drops duplicates by `event.id`.
 */
export interface EventDeliveryMessage {
  type: 'event';
  event: PlexusEventEnvelope;
}

/** Answer to `register`: the key that verifies join tickets, and the heartbeat cadence. */
export interface RegisteredMessage {
  type: 'registered';
  /** Ed25519 public key of the balancer as a JWK; the DS verifies tickets offline with it. */
  ticketKey: { kty: string; crv: string; x: string };
  heartbeatIntervalMs: number;
}

/** A command from the balancer. `drain`: accept no new tickets; `shutdown`: drain and exit. */
export interface CommandMessage {
  type: 'command';
  command: 'drain' | 'shutdown';
}

/**
 * The playground now lives on another server (a higher epoch won a mapping conflict): stop hosting
 * it without writing a checkpoint, and close its clients with 4014 PLAYGROUND_MOVED so they re-resolve.
 */
export interface ReleaseMessage {
  type: 'release';
  playgroundId: string;
}

/**
 * The user's saved record in the playground, sent when the balancer has issued a fresh (not
 * resuming) ticket for this server: the server admits that ticket with it rather than waiting for
 * `players.join`, which still records presence and hands over the inbox (docs/api.md).
 */
export interface PlayerRecordMessage {
  type: 'playerRecord';
  /** The ticket's `jti`. */
  jti: string;
  userId: string;
  playgroundId: string;
  record: PlayerRecord | null;
}

/** The balancer refuses the channel (bad message, duplicate server id) and closes it. */
export interface ControlErrorMessage {
  type: 'error';
  code: number;
  message: string;
}

export type BalancerToServer =
  | RegisteredMessage
  | CommandMessage
  | ReleaseMessage
  | RpcResultMessage
  | EventDeliveryMessage
  | PlayerRecordMessage
  | ControlErrorMessage;
