export { CHROMIUM, launchChromium } from './browser.ts';
export {
  Fleet,
  type FleetMember,
  type FleetOptions,
  positionError,
  readCheckpoint,
} from './fleet.ts';
export { freePort } from './free-port.ts';
export {
  findPostgresBin,
  PostgresNotInstalledError,
  type PostgresServer,
  startPostgres,
} from './postgres.ts';
export { type ComponentProcess, startComponent } from './process.ts';
export { RedisNotInstalledError, type RedisServer, startRedis } from './redis.ts';
export { crowdServerEnv, registeredServerIds, type Stack, type StackOptions, startStack } from './stack.ts';
export { waitFor } from './wait.ts';
