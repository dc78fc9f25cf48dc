/** Paths of the JSON APIs, shared by servers and clients. */
export const HttpPaths = {
  getEndpoint: '/lb/api/v0/getEndpoint',
  getEndpointPlaygroundId: '/lb/api/v0/getEndpointPlaygroundId',
  authCheck: '/api/v0/partnerRpc/authCheck.getUserBySessionId',
  /** The current User Simple of several users by id (a drain's tickets carry current profiles). */
  usersGetByIds: '/api/v0/partnerRpc/users.getByIds',
  matchmakingFind: '/api/v0/partnerRpc/matchmaking.findPlayground',
  /** The instance of a named playground a user joins (getEndpointPlaygroundId). */
  matchmakingJoin: '/api/v0/partnerRpc/matchmaking.joinPlayground',
  playersGet: '/api/v0/partnerRpc/players.get',
  rpcPrefix: '/api/v0/rpc/',
  /** Server-to-server RPCs (partner key). */
  partnerRpcPrefix: '/api/v0/partnerRpc/',
  /** Operator RPCs (operator key). */
  operatorRpcPrefix: '/api/v0/operatorRpc/',
  /** Balancer admin: `POST /lb/api/v0/admin/servers/<serverId>/drain` (operator key). */
  adminServersPrefix: '/lb/api/v0/admin/servers/',
} as const;

/** Playground ids: 1–64 characters of letters, digits, `-`, `_`, `.`, `#`. */
export const PLAYGROUND_ID_PATTERN = /^[A-Za-z0-9_.#-]{1,64}$/;
