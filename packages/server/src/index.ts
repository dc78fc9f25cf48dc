export { loadServerConfig, SERVER_ENV, type ServerConfig, type ServerConfigInput } from './config.ts';
export { type ServerHandle, type StartServerOptions, startServer } from './start.ts';
