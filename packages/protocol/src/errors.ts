/**
 * The one registry of error codes. Every code is unique and never reused: a removed error keeps its
 * number retired. HTTP edges render them in the `{data, error}` envelope with `status`; socket edges
 * send an ERROR frame carrying `code` and close with the matching close code (see close-codes.ts).
 *
 * Numbering by domain: 1xxx common, 2xxx backend identity/profile, 3xxx backend matchmaking,
 * 4xxx load balancer, 5xxx dedicated-server wire protocol, 6xxx client SDK (local failures).
 */
export const ErrorCodes = {
  COMMON_BAD_REQUEST: { code: 1000, status: 400, message: 'The request is invalid' },
  COMMON_MALFORMED_JSON: { code: 1001, status: 400, message: 'The request body is not valid JSON' },
  COMMON_NOT_FOUND: { code: 1002, status: 404, message: 'No such route' },
  COMMON_PAYLOAD_TOO_LARGE: { code: 1003, status: 413, message: 'The request body is too large' },
  COMMON_RATE_LIMITED: { code: 1004, status: 429, message: 'Too many requests' },
  COMMON_INTERNAL: { code: 1005, status: 500, message: 'Internal error' },
  COMMON_UNSUPPORTED_MEDIA_TYPE: { code: 1006, status: 415, message: 'Send application/json' },
  COMMON_UNAVAILABLE: { code: 1007, status: 503, message: 'The service is not ready' },
  COMMON_HEADERS_TOO_LARGE: { code: 1008, status: 431, message: 'The request headers are too large' },
  COMMON_REQUEST_TIMEOUT: {
    code: 1009,
    status: 408,
    message: 'The request did not arrive within its deadline',
  },
  COMMON_JSON_TOO_DEEP: { code: 1010, status: 400, message: 'The JSON body is nested too deeply' },

  AUTH_INVALID_SESSION: { code: 2001, status: 401, message: 'The session is unknown, expired or revoked' },
  AUTH_INVALID_CREDENTIALS: { code: 2002, status: 401, message: 'Wrong email or password' },
  AUTH_EMAIL_TAKEN: { code: 2003, status: 409, message: 'An account with this email already exists' },
  AUTH_PARTNER_KEY_REQUIRED: { code: 2004, status: 401, message: 'A valid partner key is required' },
  AUTH_SESSION_REQUIRED: {
    code: 2005,
    status: 401,
    message: 'Authorization: Bearer <sessionId> is required',
  },

  MATCH_NO_PLAYGROUND: { code: 3001, status: 503, message: 'No playground could be allocated' },
  MATCH_PLAYGROUND_FULL: { code: 3100, status: 503, message: 'Every instance of this playground is full' },
  MATCH_PLAYGROUND_CLOSED: { code: 3101, status: 409, message: 'This playground is closed to new joins' },
  MATCH_PLAYGROUND_NOT_FOUND: { code: 3102, status: 404, message: 'No such playground in the catalogue' },
  MATCH_PLAYGROUND_EXISTS: { code: 3103, status: 409, message: 'A playground with this id already exists' },
  MATCH_INVITE_INVALID: { code: 3104, status: 404, message: 'The invite code is unknown' },
  MATCH_PARTY_NOT_FOUND: { code: 3105, status: 404, message: 'No such party' },
  MATCH_PARTY_FULL: { code: 3106, status: 409, message: 'The party has no room left' },
  MATCH_PARTY_NOT_MEMBER: { code: 3107, status: 403, message: 'The user is not a member of this party' },
  MATCH_PARTY_NO_ROOM: {
    code: 3108,
    status: 503,
    message: 'No playground instance has room for the whole party',
  },
  CHECKPOINT_STALE: {
    code: 3150,
    status: 409,
    message: 'A newer holder owns this playground; the checkpoint was not written',
  },
  CHECKPOINT_TOO_LARGE: { code: 3151, status: 413, message: 'The checkpoint is too large' },
  PLAYER_DATA_TOO_LARGE: { code: 3152, status: 413, message: "A player's data is too large" },
  EVENT_TOO_LARGE: { code: 3153, status: 413, message: 'The event payload is too large' },
  OPERATOR_KEY_REQUIRED: { code: 2006, status: 401, message: 'A valid operator key is required' },

  LB_NO_CAPACITY: { code: 4001, status: 503, message: 'No dedicated server has room' },
  LB_BACKEND_UNAVAILABLE: { code: 4002, status: 503, message: 'The backend could not be reached' },
  LB_SESSION_REQUIRED: { code: 4003, status: 401, message: 'A sessionId is required' },
  LB_RESUME_INVALID: {
    code: 4100,
    status: 400,
    message: 'The resume token is invalid, expired, or for another user or playground',
  },
  LB_SERVER_UNKNOWN: { code: 4101, status: 404, message: 'No such dedicated server' },
  LB_STATE_UNAVAILABLE: {
    code: 4102,
    status: 503,
    message: "The balancers' shared state (Redis) could not be reached",
  },
  LB_SERVER_NOT_CONNECTED: {
    code: 4103,
    status: 503,
    message: 'The server hosting this playground is not connected to this balancer; try another balancer',
  },
  LB_RPC_BUSY: { code: 4104, status: 429, message: 'Too many control requests in flight from this server' },
  LB_TOO_MANY_HELD_SEATS: {
    code: 4200,
    status: 429,
    message: 'This user already holds the most unredeemed join tickets allowed',
  },
  LB_CONSOLE_STREAMS_FULL: {
    code: 4300,
    status: 503,
    message: 'Too many operator console streams are open on this balancer',
  },
  LB_CONSOLE_METHOD_UNKNOWN: {
    code: 4301,
    status: 404,
    message:
      'The console forwards only analytics.summary, playgrounds.list, playgrounds.close and events.publish',
  },
  LB_ALLOCATION_FAILED: {
    code: 4350,
    status: 503,
    message: 'No GameServer could be allocated from the Agones fleet',
  },

  PROTOCOL_MALFORMED_FRAME: { code: 5001, status: 400, message: 'The frame could not be decoded' },
  PROTOCOL_UNSUPPORTED_VERSION: { code: 5002, status: 400, message: 'Unsupported protocol version' },
  PROTOCOL_HANDSHAKE_TIMEOUT: { code: 5003, status: 408, message: 'No HELLO within the handshake deadline' },
  PROTOCOL_TICKET_INVALID: { code: 5004, status: 401, message: 'The join ticket is invalid or expired' },
  PROTOCOL_TICKET_REPLAYED: { code: 5005, status: 401, message: 'The join ticket was already used' },
  PROTOCOL_TICKET_WRONG_TARGET: { code: 5006, status: 403, message: 'The join ticket is for another server' },
  PROTOCOL_UNEXPECTED_FRAME: { code: 5007, status: 400, message: 'This frame is not allowed now' },
  PROTOCOL_RATE_LIMITED: { code: 5008, status: 429, message: 'Too many frames' },
  PROTOCOL_NOT_OWNER: { code: 5009, status: 403, message: 'The client has no authority over this entity' },
  PROTOCOL_SERVER_FULL: { code: 5010, status: 503, message: 'The server or playground is full' },
  PROTOCOL_SLOW_CONSUMER: { code: 5011, status: 503, message: 'The client did not keep up with the stream' },
  PROTOCOL_SHUTTING_DOWN: { code: 5012, status: 503, message: 'The server is shutting down' },
  PROTOCOL_DUPLICATE_LOGIN: {
    code: 5013,
    status: 409,
    message: 'The same user joined from another connection',
  },
  PROTOCOL_IDLE_TIMEOUT: { code: 5014, status: 408, message: 'No frame within the idle deadline' },
  PROTOCOL_INVALID_TRANSFORM: {
    code: 5015,
    status: 400,
    message: 'The transform is out of bounds or too fast',
  },
  PROTOCOL_TOO_MANY_CONNECTIONS: {
    code: 5016,
    status: 429,
    message: 'Too many connections from this address',
  },
  PROTOCOL_NOT_READY: {
    code: 5017,
    status: 503,
    message: 'The server is not ready to admit players yet',
  },
  PROTOCOL_AUTHORITY_HELD: {
    code: 5018,
    status: 409,
    message: 'Another client holds authority over this entity',
  },
  PROTOCOL_SPAWN_LIMIT: { code: 5019, status: 429, message: 'Too many entities of this kind' },
  PROTOCOL_UNKNOWN_ENTITY: { code: 5020, status: 404, message: 'No such entity in this playground' },
  PROTOCOL_INVALID_PROPS: {
    code: 5021,
    status: 400,
    message: "The properties do not match the entity kind's schema",
  },
  PROTOCOL_FORBIDDEN_BY_RULE: { code: 5022, status: 403, message: "The playground's rules forbid this" },
  PROTOCOL_LOGIC_ERROR: { code: 5023, status: 500, message: 'The playground logic failed on this request' },
  PROTOCOL_JOIN_REFUSED: { code: 5024, status: 403, message: 'The playground refused the join' },
  PROTOCOL_UNKNOWN_CLIENT: { code: 5025, status: 404, message: 'No such client in this playground' },
  PROTOCOL_ENTITY_RATE_LIMITED: {
    code: 5026,
    status: 429,
    message: 'Updates to this entity are too frequent',
  },
  PROTOCOL_PLAYGROUND_MOVED: {
    code: 5027,
    status: 409,
    message: 'The playground moved to another server; resolve it again',
  },
  PROTOCOL_MESSAGE_TOO_LARGE: {
    code: 5200,
    status: 413,
    message: 'The message payload is larger than 8 KiB as the server encodes it',
  },
  // Dedicated server ↔ balancer control RPCs (never sent to clients).
  DS_NO_BALANCER: { code: 5028, status: 503, message: 'No balancer link is up to carry the request' },
  DS_CONTROL_TIMEOUT: {
    code: 5029,
    status: 504,
    message: 'The balancer did not answer the control request in time',
  },

  // 6xxx: raised by the client SDK itself (never sent by a server); `status` is the HTTP status that
  // best describes the failure.
  CLIENT_NETWORK_ERROR: { code: 6001, status: 503, message: 'The server could not be reached' },
  CLIENT_TIMEOUT: { code: 6002, status: 504, message: 'The server did not answer in time' },
  CLIENT_BAD_RESPONSE: { code: 6003, status: 502, message: 'The server sent an unexpected response' },
  CLIENT_CONNECTION_CLOSED: { code: 6004, status: 503, message: 'The connection closed' },
  CLIENT_RECONNECT_FAILED: {
    code: 6010,
    status: 503,
    message: 'The connection was lost and could not be resumed in time',
  },
  CLIENT_LIVENESS_TIMEOUT: {
    code: 6011,
    status: 504,
    message: 'Nothing arrived from the server within the liveness timeout',
  },
} as const;

export type ErrorName = keyof typeof ErrorCodes;
export type ErrorSpec = (typeof ErrorCodes)[ErrorName];

const byCode = new Map<number, ErrorName>(
  (Object.keys(ErrorCodes) as ErrorName[]).map((name) => [ErrorCodes[name].code, name]),
);

/** Looks up the registry name of a numeric error code (undefined for unknown codes). */
export function errorNameOf(code: number): ErrorName | undefined {
  return byCode.get(code);
}
