export {
  type ConfigFile,
  type ConfigSources,
  configFileName,
  loadConfig,
  parseDuration,
  type SessionConfig,
} from './config/config.ts'

export type { CookieOptions, CookieOptionsFor } from './core/cookie.ts'
export { hashSessionId, type Secret } from './core/crypto.ts'
export type { EventHandler, SessionEvent, SessionEventType, StoreCall } from './core/events.ts'
export type { SessionExpiry } from './core/expiry.ts'
export { getSession } from './core/manager.ts'
export { type Next, sessionMiddleware } from './core/middleware.ts'
export { failOpen } from './core/on-error.ts'
export type { ErrorHandler, SessionOptions } from './core/options.ts'
export type { Session, SessionData } from './core/session.ts'
export { type DestroyUserSessionsOptions, destroyUserSessions, listUserSessions } from './core/users.ts'
export {
  ConnectDynamoDBTable,
  type ConnectDynamoDBTableOptions,
  type LegacySession,
} from './dynamodb/connect-dynamodb.ts'
export {
  collectGarbage,
  type GarbageCollectionOptions,
  type GarbageCollectionProgress,
  type GarbageCollectionResult,
} from './dynamodb/gc.ts'
export { MAX_ITEM_BYTES } from './dynamodb/item.ts'
export type { DynamoDBStoreOptions } from './dynamodb/options.ts'
export { DynamoDBStore } from './dynamodb/store.ts'
export {
  checkTable,
  createTable,
  deleteTable,
  type TableOptions,
  type TableReport,
} from './dynamodb/table.ts'
export {
  ConfigError,
  type ConfigSource,
  SessionError,
  type SessionErrorCode,
  SessionStoreError,
  SessionTooLargeError,
  SessionValueError,
  TableError,
  type TableErrorCode,
} from './errors.ts'
export { MemoryStore } from './store/memory.ts'
export type {
  CallOptions,
  DeleteOptions,
  SessionRecord,
  Store,
  StoreMeter,
  UpdateOptions,
  UserSession,
} from './store/store.ts'
