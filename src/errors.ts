import type { TableErrorCode } from './table-error.ts'

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
