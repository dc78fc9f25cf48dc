export { loadServerConfig, SERVER_ENV, type ServerConfig, type ServerConfigInput } from './config.ts';
export type { Bounds, EntityKind } from './playground/entity-kinds.ts';
export {
  type ClientRequest,
  definePlaygroundType,
  type EntityChange,
  type EntityView,
  type JoinVerdict,
  type Member,
  type PlaygroundApi,
  PlaygroundApiError,
  type PlaygroundLimits,
  type PlaygroundType,
  type SpawnOptions,
} from './playground/playground-type.ts';
export type { PropSpec, PropsSchema } from './playground/props-schema.ts';
export { type ServerHandle, type StartServerOptions, startServer } from './start.ts';
