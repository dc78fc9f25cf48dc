export { type BackendAppOptions, createBackendApp } from './app.ts';
export { BACKEND_ENV, type BackendConfig, type BackendConfigInput, loadBackendConfig } from './config.ts';
export { type BackendHandle, startBackend } from './start.ts';
export type {
  NewSession,
  NewUser,
  ProfilePatch,
  Repository,
  SeatAssignment,
  SeatRequest,
  SessionRecord,
  UserRecord,
} from './storage/repository.ts';
export { EmailTakenError, UnknownUserError } from './storage/repository.ts';
export { DATABASE_FILE, openSqliteRepository, SqliteRepository } from './storage/sqlite/sqlite-repository.ts';
