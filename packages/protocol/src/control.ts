/**
 * Messages of the control channel between a dedicated server (DS) and the load balancer (LB):
 * one WebSocket per DS, opened by the DS to `CONTROL_PATH` with
 * `Authorization: Bearer <cluster secret>`, carrying JSON text frames. Liveness uses WebSocket
 * ping/pong from the LB.
 */

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
  /** 99th percentile tick duration over the last interval, milliseconds. */
  tickP99Ms?: number | undefined;
  /** Client ticks skipped by backpressure over the last interval. */
  backpressureSkips?: number | undefined;
}

/** Sent when a client presents a ticket and is admitted: its reserved seat is now a player. */
export interface TicketRedeemedMessage {
  type: 'ticketRedeemed';
  jti: string;
  playgroundId: string;
}

export type ServerToBalancer = RegisterMessage | LoadMessage | TicketRedeemedMessage;

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

/** The balancer refuses the channel (bad message, duplicate server id) and closes it. */
export interface ControlErrorMessage {
  type: 'error';
  code: number;
  message: string;
}

export type BalancerToServer = RegisteredMessage | CommandMessage | ControlErrorMessage;
