export { type BackendAppOptions, createBackendApp } from './app.ts';
export { BACKEND_ENV, type BackendConfig, type BackendConfigInput, loadBackendConfig } from './config.ts';
export { type BackendHandle, startBackend } from './start.ts';
export {
  DATABASE_FILE,
  type OpenedStorage,
  openRepository,
  openSqlDb,
  openSqliteDb,
  type StorageConfig,
} from './storage/open-repository.ts';
export { PgDb, type PgDbOptions } from './storage/postgres/pg-db.ts';
export type {
  NewSession,
  NewUser,
  ProfilePatch,
  Repository,
  SessionRecord,
  UserRecord,
} from './storage/repository.ts';
export { EmailTakenError } from './storage/repository.ts';
export type { SqlDb, SqlExecutor, SqlValue, TransactionOptions } from './storage/sql-db.ts';
export { isUniqueViolation } from './storage/sql-errors.ts';
export { SqlRepository, type SqlRepositoryOptions } from './storage/sql-repository.ts';
export { SqliteDb, type SqliteDbOptions } from './storage/sqlite/sqlite-db.ts';
