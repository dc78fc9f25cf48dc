import type { ErrorName } from './errors.ts';

/**
 * WebSocket close codes used by dedicated servers (4000–4999 are application codes per RFC 6455).
 * Standard codes are used where their meaning fits: 1000 normal, 1001 going away, 1008 policy
 * (rate limit), 1009 message too big.
 */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  PROTOCOL_ERROR: 4000,
  UNSUPPORTED_VERSION: 4001,
  HANDSHAKE_TIMEOUT: 4002,
  TICKET_INVALID: 4003,
  TICKET_REPLAYED: 4004,
  TICKET_WRONG_TARGET: 4005,
  SERVER_FULL: 4006,
  SLOW_CONSUMER: 4007,
  DUPLICATE_LOGIN: 4008,
  IDLE_TIMEOUT: 4009,
  SHUTTING_DOWN: 4010,
  TOO_MANY_CONNECTIONS: 4011,
  NOT_READY: 4012,
  JOIN_REFUSED: 4013,
  /** The playground no longer lives on this server: resolve it again through the balancer and resume. */
  PLAYGROUND_MOVED: 4014,
} as const;

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/**
 * The close code that follows an ERROR frame carrying `name`, or undefined when the error is not fatal
 * (the connection stays open; e.g. moving an entity the client does not own).
 */
export const closeCodeFor: Partial<Record<ErrorName, CloseCode>> = {
  PROTOCOL_MALFORMED_FRAME: CloseCodes.PROTOCOL_ERROR,
  PROTOCOL_UNEXPECTED_FRAME: CloseCodes.PROTOCOL_ERROR,
  PROTOCOL_UNSUPPORTED_VERSION: CloseCodes.UNSUPPORTED_VERSION,
  PROTOCOL_HANDSHAKE_TIMEOUT: CloseCodes.HANDSHAKE_TIMEOUT,
  PROTOCOL_TICKET_INVALID: CloseCodes.TICKET_INVALID,
  PROTOCOL_TICKET_REPLAYED: CloseCodes.TICKET_REPLAYED,
  PROTOCOL_TICKET_WRONG_TARGET: CloseCodes.TICKET_WRONG_TARGET,
  PROTOCOL_RATE_LIMITED: CloseCodes.POLICY_VIOLATION,
  PROTOCOL_SERVER_FULL: CloseCodes.SERVER_FULL,
  PROTOCOL_SLOW_CONSUMER: CloseCodes.SLOW_CONSUMER,
  PROTOCOL_SHUTTING_DOWN: CloseCodes.SHUTTING_DOWN,
  PROTOCOL_DUPLICATE_LOGIN: CloseCodes.DUPLICATE_LOGIN,
  PROTOCOL_IDLE_TIMEOUT: CloseCodes.IDLE_TIMEOUT,
  PROTOCOL_TOO_MANY_CONNECTIONS: CloseCodes.TOO_MANY_CONNECTIONS,
  PROTOCOL_NOT_READY: CloseCodes.NOT_READY,
  PROTOCOL_JOIN_REFUSED: CloseCodes.JOIN_REFUSED,
  PROTOCOL_PLAYGROUND_MOVED: CloseCodes.PLAYGROUND_MOVED,
};
