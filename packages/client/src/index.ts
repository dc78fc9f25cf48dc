/**
 * @plexus/client — the Plexus SDK for browsers and Node 24: log in, join a playground through the
 * load balancer, mirror its entities (interpolated for rendering), move the own avatar, spawn and
 * hold shared entities (authority), exchange custom messages.
 */
export type {
  AuthResult,
  EndpointGrant,
  EntityState,
  GuestInput,
  JsonValue,
  PartyView,
  PlaygroundListing,
  PlexusEventEnvelope,
  ProfileResult,
  ProfileUpdate,
  Props,
  Quat,
  RedirectPayload,
  RegisterInput,
  UserSimple,
  Vec3,
} from '@plexus/protocol';
export {
  type BrowseFilter,
  type BrowsePage,
  type ClientEvents,
  type JoinOptions,
  PlexusClient,
  type PlexusClientOptions,
} from './client.ts';
export { Link, type LinkOptions, type LinkSink, type LinkTarget } from './connection/link.ts';
export {
  attemptVerdict,
  backoffDelayMs,
  isResumableClose,
  LIVENESS_CLOSE_CODE,
  nextAttemptDelayMs,
  type ReconnectOptions,
  type ReconnectPolicy,
  reconnectPolicy,
} from './connection/reconnect.ts';
export {
  PendingRequests,
  type PendingRequestsOptions,
  type RequestOutcome,
} from './connection/requests.ts';
export type {
  EndpointResolver,
  ReconnectedInfo,
  ReconnectingInfo,
  ReconnectReason,
} from './connection/resumer.ts';
export {
  FrameSocket,
  type FrameSocketHandlers,
  type WebSocketConstructor,
  type WebSocketLike,
} from './connection/socket.ts';
export { Emitter, type EventMap, type Listener } from './emitter.ts';
export { PlexusError, type PlexusErrorOptions } from './errors.ts';
export { BackendApi } from './http/backend-api.ts';
export {
  BalancerApi,
  type MatchCriteria,
  type MatchRequest,
  type NamedJoinRequest,
} from './http/balancer-api.ts';
export { type FetchFn, type HttpOptions, parseEnvelope } from './http/request.ts';
export { UrlPool, worthAnotherUrl } from './http/url-pool.ts';
export type {
  EntityChange,
  EntitySample,
  KindMap,
  KindName,
  OpenWorldKinds,
  PlaygroundMessage,
  PropsChange,
  SpawnInput,
  TypedEntity,
} from './kinds.ts';
export { connectPlayground, Playground } from './playground.ts';
export type {
  ConnectionState,
  DisconnectInfo,
  MoveInput,
  PlaygroundEvents,
  PlaygroundOptions,
} from './playground-types.ts';
export {
  type Entity,
  type EntityField,
  EntityMirror,
  type LocalChange,
  type MirrorObserver,
  type ServerState,
} from './state/entity-mirror.ts';
export {
  Interpolator,
  type InterpolatorOptions,
  lerpVec3,
  nlerpQuat,
  TickClock,
  type Transform,
  TransformBuffer,
} from './state/interpolation.ts';
export { type Agreement, type Mark, MatchTolerance, Predictor, sameTransform } from './state/prediction.ts';
