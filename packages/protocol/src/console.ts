/**
 * The operator console's live view, as the balancer pushes it on `GET /lb/api/v0/admin/stream`
 * (server-sent events, `event: snapshot`; docs/api.md, "Operator console"). Shared by the balancer
 * that builds it and the console page that draws it.
 */

/** Path of the console stream (operator key in `Authorization`, never in the URL). */
export const CONSOLE_STREAM_PATH = '/lb/api/v0/admin/stream';
/** Operator RPCs the balancer forwards for the console: `POST <prefix><method>`. */
export const CONSOLE_OPERATOR_RPC_PREFIX = '/lb/api/v0/admin/operatorRpc/';

export type ConsoleServerState = 'ready' | 'draining' | 'dead';

export interface ConsoleServer {
  serverId: string;
  endpoint: string;
  state: ConsoleServerState;
  capacity: number;
  players: number;
  /** Seats reserved by unredeemed tickets. */
  pending: number;
  playgrounds: number;
  tickMs: number;
  tickP50Ms: number;
  tickP99Ms: number;
  bytesOutPerSec: number;
  checkpointLagMs: number;
  cpu: number;
  entities: number;
  version: string;
  /** Balancers holding its control socket. */
  balancers: string[];
  /** ISO time of its last load report (live) or of its death (dead). */
  lastSeenAt: string;
  /** Why it died (dead servers only). */
  reason?: string;
}

export interface ConsolePlayground {
  playgroundId: string;
  players: number;
  /** Server hosting it. */
  serverId: string;
  epoch: number | null;
  checkpointAgeMs: number | null;
}

export interface ConsoleBalancer {
  lbId: string;
  /** Live servers whose control socket it holds. */
  servers: number;
  players: number;
  /** The balancer that serves this stream. */
  self: boolean;
}

/** One `snapshot` event of the console stream (docs/api.md, "Operator console"). */
export interface ConsoleSnapshot {
  at: string;
  lbId: string;
  mode: 'memory' | 'redis';
  balancers: ConsoleBalancer[];
  servers: ConsoleServer[];
  playgrounds: ConsolePlayground[];
  playgroundsTotal: number;
}
