import type { SessionError } from '../errors.ts'
import type { Store } from '../store/store.ts'
import { type CookieOptions, createSessionCookie, type SessionCookie } from './cookie.ts'
import { defaultOnError } from './on-error.ts'

// The middleware's options: their types, their defaults, and their checks, made once when the
// middleware is created so that a request never meets a bad option.

export interface SessionOptions {
  /**
   * The secret that signs the session cookie, at least 32 characters. An array rotates
   * secrets: the first signs, all verify, and cookies signed by an older one are re-signed.
   */
  secretKey: string | readonly string[]
  /** Where sessions are kept: a `DynamoDBStore`, or a `MemoryStore` for development. */
  store: Store
  /** Seconds of inactivity after which a session expires. @default 1209600 (14 days) */
  maxStale?: number
  /** Seconds after creation after which a session expires however active. @default unlimited */
  maxAge?: number
  /**
   * An unchanged session's idle expiry is extended at most once per this many seconds, so
   * reads cost no writes. @default one tenth of maxStale, at most 3600
   */
  touchAfter?: number
  cookie?: CookieOptions
  /**
   * Seal every session value at rest with iron (AES-256 and HMAC-SHA256, WebCrypto) under
   * `secretKey`: the newest secret seals, every listed one unseals. A table dump then shows
   * neither usable ids nor values (key names stay readable). Turning it on or off keeps existing
   * sessions readable; their values change form on their next write.
   * @default false
   */
  encrypt?: boolean
  /**
   * Decides what a store failure does to the request. Return a Response to send it instead
   * (fail closed: no Set-Cookie, nothing half-written), or undefined to go on (fail open): a
   * failed load then serves an empty session that is never saved, a failed save sends the
   * handler's response without the change. `phase` says which.
   * @default logs the error and answers 503 (store unreachable) or 500: fail closed
   * @example onError: failOpen // serve anyway, and log what was lost
   */
  onError?: ErrorHandler
}

/**
 * `phase` is 'load' or 'save' for store failures; 'unseal' reports a sealed session that could
 * not be unsealed, which reads as absent whatever the handler returns.
 */
export type ErrorHandler = (
  error: SessionError,
  request: Request,
  phase: 'load' | 'save' | 'unseal',
) => Response | undefined | Promise<Response | undefined>

/** The expiry rules every session follows, resolved from the options. */
export interface ExpiryPolicy {
  maxStale: number
  maxAge: number | undefined
  touchAfter: number
}

/** The options checked, with their defaults applied. */
export interface ResolvedOptions {
  secrets: string[]
  store: Store
  policy: ExpiryPolicy
  cookie: SessionCookie
  encrypt: boolean
  onError: ErrorHandler
}

const DEFAULT_MAX_STALE = 14 * 24 * 60 * 60
const MIN_SECRET_LENGTH = 32

/** Checks every option once, at factory time, and applies the defaults. */
export function resolveOptions(options: SessionOptions): ResolvedOptions {
  const secrets = validateSecrets(options?.secretKey)
  const store = options.store
  if (!store || typeof store.load !== 'function') {
    throw new Error('Session middleware requires the "store" option: a DynamoDBStore or a MemoryStore.')
  }
  const maxStale = seconds('maxStale', options.maxStale) ?? DEFAULT_MAX_STALE
  const maxAge = seconds('maxAge', options.maxAge)
  const touchAfter = seconds('touchAfter', options.touchAfter, 0) ?? Math.min(3600, Math.floor(maxStale / 10))
  if (touchAfter >= maxStale) {
    throw new Error(`Session option "touchAfter" (${touchAfter}) must be less than "maxStale" (${maxStale}).`)
  }
  return {
    secrets,
    store,
    policy: { maxStale, maxAge, touchAfter },
    cookie: createSessionCookie(options.cookie),
    encrypt: options.encrypt ?? false,
    onError: options.onError ?? defaultOnError,
  }
}

function validateSecrets(secretKey: unknown): string[] {
  const secrets = typeof secretKey === 'string' ? [secretKey] : Array.isArray(secretKey) ? [...secretKey] : []
  if (secrets.length === 0) {
    throw new Error(
      `Session middleware requires the "secretKey" option: a random string of at least ${MIN_SECRET_LENGTH} characters ` +
        '(or an array of them, newest first), e.g. from `openssl rand -base64 32`.',
    )
  }
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      throw new Error(
        `Session option "secretKey" must be at least ${MIN_SECRET_LENGTH} characters long; ` +
          'generate one with `openssl rand -base64 32`.',
      )
    }
  }
  return secrets
}

/** A positive whole number of seconds, or undefined when not given. */
function seconds(name: string, value: number | undefined, min = 1): number | undefined {
  if (value === undefined) return undefined
  if (!Number.isInteger(value) || value < min) {
    throw new Error(
      `Session option "${name}" must be a whole number of seconds, at least ${min}; got ${value}.`,
    )
  }
  return value
}
