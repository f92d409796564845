// Every error this library raises, in one module that imports nothing: a base class with a stable
// `code`, and one subclass per kind of failure. Each layer (core, store, dynamodb, config) throws
// these and none defines its own, so callers match on `error.code` wherever the error came from.

/**
 * Every error this library raises shares this base class and a stable `code`,
 * so callers can match on `error.code` instead of on message text.
 */
export class SessionError extends Error {
  readonly code: SessionErrorCode

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

export type SessionErrorCode =
  | 'STORE_UNAVAILABLE'
  | 'SESSION_TOO_LARGE'
  | 'INVALID_SESSION_VALUE'
  | 'SESSION_ID_COLLISION'
  | 'SESSION_UNREADABLE'
  | 'SESSION_CONFLICT'
  | 'SESSION_ENDED'
  | 'STORE_REJECTED'
  | 'INVALID_CONFIG'
  | TableErrorCode

/** The store could not be reached or answered with an error. `cause` holds the original error. */
export class SessionStoreError extends SessionError {
  constructor(operation: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super('STORE_UNAVAILABLE', `Session store ${operation} failed: ${reason}`, { cause })
  }
}

/** The stored item would be larger than DynamoDB's 400 KB item limit. */
export class SessionTooLargeError extends SessionError {
  /** The item's size in bytes, when it was counted before the call. */
  readonly size: number | undefined
  readonly limit: number

  constructor(size: number | undefined, limit: number) {
    super(
      'SESSION_TOO_LARGE',
      `Session item ${size === undefined ? 'would pass' : `is ${size} bytes, over`} DynamoDB's 400 KB item limit (${limit} bytes). ` +
        'Keep large data elsewhere and store a reference to it in the session.',
    )
    this.size = size
    this.limit = limit
  }
}

/** A value given to `session.set()` or `session.flash()` cannot be stored as JSON. */
export class SessionValueError extends SessionError {
  constructor(message: string) {
    super('INVALID_SESSION_VALUE', message)
  }
}

/**
 * Why a table operation (`createTable`, `deleteTable`, `checkTable`, `collectGarbage`) failed,
 * as a stable code to match on.
 */
export type TableErrorCode =
  | 'TABLE_NOT_FOUND'
  | 'TABLE_MISMATCH'
  | 'TABLE_TIMEOUT'
  | 'ACCESS_DENIED'
  | 'NO_CREDENTIALS'
  | 'INVALID_CREDENTIALS'
  | 'NO_REGION'
  | 'UNREACHABLE'
  | 'THROTTLED'
  | 'REQUEST_FAILED'

/**
 * A table operation failed. The message is one line that says what went wrong and how to fix it;
 * `cause` holds the SDK's error, when there was one.
 *
 * @example
 * try {
 *   await collectGarbage({ tableName: 'sessions' })
 * } catch (error) {
 *   if (error instanceof TableError && error.code === 'TABLE_NOT_FOUND') await createTable({ tableName: 'sessions' })
 * }
 */
export class TableError extends SessionError {
  declare readonly code: TableErrorCode

  constructor(code: TableErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/**
 * An option that is unknown, badly written or missing: `option` names it, `source` says where it
 * came from, and the message says how to fix it.
 *
 * @example
 * try {
 *   loadConfig({ env: { AWS_DYNAMO_DB_SESSION_MAX_STALE: '5x' } })
 * } catch (error) {
 *   if (error instanceof ConfigError) console.error(error.option, error.source) // 'maxStale' 'environment'
 * }
 */
export class ConfigError extends SessionError {
  /** The option's name (`maxStale`, `cookie.secure`), or the unknown name as it was written. */
  readonly option: string
  /** Where the value came from: `environment`, `command line`, `config file` or `code`. */
  readonly source: ConfigSource

  constructor(message: string, option: string, source: ConfigSource) {
    super('INVALID_CONFIG', message)
    this.option = option
    this.source = source
  }
}

export type ConfigSource = 'code' | 'command line' | 'environment' | 'config file'
