export {
  type ConfigFile,
  type ConfigSources,
  configFileName,
  loadConfig,
  parseDuration,
  type SessionConfig,
} from './config.ts'
export { ConfigError, type ConfigSource } from './config-error.ts'
export type { CookieOptions } from './cookie.ts'
export { DynamoDBStore, type DynamoDBStoreOptions, MAX_ITEM_BYTES } from './dynamodb-store.ts'
export {
  SessionError,
  type SessionErrorCode,
  SessionStoreError,
  SessionTooLargeError,
  SessionValueError,
} from './errors.ts'
export {
  collectGarbage,
  type GarbageCollectionOptions,
  type GarbageCollectionProgress,
  type GarbageCollectionResult,
} from './garbage-collection.ts'
export { type ErrorHandler, failOpen, getSession, type SessionOptions } from './manager.ts'
export { MemoryStore } from './memory-store.ts'
export { type Next, sessionMiddleware } from './middleware.ts'
export type { Session, SessionData } from './session.ts'
export type { SessionRecord, Store, UserSession } from './store.ts'
export { checkTable, createTable, deleteTable, type TableOptions, type TableReport } from './table.ts'
export { TableError, type TableErrorCode } from './table-error.ts'
export { type DestroyUserSessionsOptions, destroyUserSessions, listUserSessions } from './users.ts'
