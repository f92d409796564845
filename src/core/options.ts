import { ConfigError, type SessionError } from '../errors.ts'
import {
  ALL_OPTION_NAMES,
  aBoolean,
  aFunction,
  type Check,
  checkOptions,
  describe,
  type OptionAt,
  optionError,
  wholeNumber,
} from '../option-checks.ts'
import type { Store } from '../store/store.ts'
import {
  type CookieOptions,
  type CookieOptionsFor,
  checkCookieOption,
  createCookieChooser,
  type SessionCookie,
} from './cookie.ts'
import { isCryptoKey, MIN_SECRET_BYTES, MIN_SECRET_LENGTH, type Secret } from './crypto.ts'
import type { EventHandler } from './events.ts'
import { defaultOnError } from './on-error.ts'

// The middleware's options: their types, their defaults, and their checks, made once when the
// middleware is created so that a request never meets a bad option. Every mistake is a
// ConfigError naming the option; the table below has one line per option.

export interface SessionOptions {
  /**
   * The secret that signs the session cookie: a string of at least 32 characters, a Uint8Array
   * (or Buffer) of at least 32 random bytes, or an HMAC-SHA256 `CryptoKey` (from a KMS, say; not
   * with `encrypt`). An array rotates secrets: the first signs, all verify, and cookies signed by
   * an older one are re-signed.
   */
  secretKey: Secret | readonly Secret[]
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
  /**
   * The session cookie's options, or a function of the request returning them (checked on each
   * distinct result, which is kept). A function is called once per request, before the cookie is
   * read: the name it returns is the name read, so derive it from the request alone.
   * @example cookie: (request) => ({ domain: new URL(request.url).hostname, secure: 'auto' })
   */
  cookie?: CookieOptions | CookieOptionsFor
  /**
   * Behind a reverse proxy that terminates TLS, believe its `X-Forwarded-Proto` (else `Forwarded:
   * proto=`) header when `cookie.secure` or `cookie.sameSite` is 'auto'. Only set it when a
   * proxy you run overwrites that header: any client can send one.
   * @default false: only the request URL's protocol counts
   */
  trustProxy?: boolean
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
  /**
   * Told what happens to sessions and what it costs: `created`, `updated`, `touched`, `read`,
   * `regenerated`, `destroyed`, `staleCookie`, `tamperedCookie` and `storeError`, each with the
   * store key (never the id), the user, the DynamoDB calls made with the capacity units DynamoDB
   * reported, and the milliseconds they took. Called in a microtask, never awaited: it cannot slow
   * down or break a request. See docs/events.md for OpenTelemetry.
   * @example onEvent: (event) => console.log(event.type, event.capacityUnits)
   */
  onEvent?: EventHandler
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
  /** Strings as given, bytes copied (a later change to the caller's buffer changes nothing), keys as given. */
  secrets: Secret[]
  store: Store
  policy: ExpiryPolicy
  /** The session cookie of a request: the same for every request unless options are 'auto' or per request. */
  cookieFor: (request: Request) => SessionCookie
  encrypt: boolean
  onError: ErrorHandler
  onEvent: EventHandler | undefined
}

const DEFAULT_MAX_STALE = 14 * 24 * 60 * 60
const OWNER = 'Session'

const STORE_METHODS = ['load', 'create', 'update', 'touch', 'delete'] as const

const aStore: Check = (value, at) => {
  const missing = STORE_METHODS.filter(
    (method) => typeof (value as Record<string, unknown> | null)?.[method] !== 'function',
  )
  if (typeof value !== 'object' || value === null || missing.length > 0) {
    throw optionError(
      at,
      `must be a Store (a DynamoDBStore, a MemoryStore, or an object with ${STORE_METHODS.join(', ')} methods), not ${describe(value)}${
        typeof value === 'object' && value !== null ? `: it lacks ${missing.join(', ')}` : ''
      }.`,
    )
  }
}

const SECRET_KINDS =
  `a string of at least ${MIN_SECRET_LENGTH} characters, a Uint8Array of at least ${MIN_SECRET_BYTES} bytes, ` +
  'or an HMAC-SHA256 CryptoKey'

/** What is wrong with one secret (never showing it), or undefined. `signs`: the newest, which signs. */
function secretProblem(secret: unknown, signs: boolean): string | undefined {
  if (typeof secret === 'string') {
    return secret.length >= MIN_SECRET_LENGTH
      ? undefined
      : `is ${secret.length} characters long, under ${MIN_SECRET_LENGTH}: generate one with \`openssl rand -base64 32\``
  }
  if (secret instanceof Uint8Array) {
    return secret.byteLength >= MIN_SECRET_BYTES
      ? undefined
      : `is ${secret.byteLength} bytes long, under ${MIN_SECRET_BYTES}: use crypto.getRandomValues(new Uint8Array(32))`
  }
  if (isCryptoKey(secret)) {
    const { name, hash } = secret.algorithm as { name: string; hash?: { name?: string } }
    if (name !== 'HMAC' || hash?.name !== 'SHA-256') {
      return `is a ${name}${hash?.name ? ` ${hash.name}` : ''} CryptoKey, not HMAC with SHA-256`
    }
    const needs = signs ? ['sign', 'verify'] : ['verify']
    const lacking = needs.filter((usage) => !secret.usages.includes(usage as KeyUsage))
    if (lacking.length > 0) return `is a CryptoKey whose usages lack ${lacking.join(' and ')}`
    return undefined
  }
  return `is ${describe(secret)}, not ${SECRET_KINDS}`
}

const someSecrets: Check = (value, at) => {
  const secrets = Array.isArray(value) ? value : [value]
  if (secrets.length === 0)
    throw optionError(at, `is an empty array: give at least one secret, newest first.`)
  for (const [index, secret] of secrets.entries()) {
    const problem = secretProblem(secret, index === 0)
    if (problem) {
      const which = Array.isArray(value) ? `secret ${index} (counting from 0)` : 'secret'
      throw optionError(at, `must be ${SECRET_KINDS}, or an array of them; its ${which} ${problem}.`)
    }
  }
}

const seconds = (min: number) => wholeNumber(min, undefined, 'seconds')

/**
 * Every option of `SessionOptions` -> its check; one line per option. Options that another entry
 * point reads (`tableName` from a shared config) pass through; any other name is a mistake.
 */
export const SESSION_OPTIONS = {
  secretKey: someSecrets,
  store: aStore,
  maxStale: seconds(1),
  maxAge: seconds(1),
  touchAfter: seconds(0),
  cookie: checkCookieOption,
  trustProxy: aBoolean,
  encrypt: aBoolean,
  onError: aFunction,
  onEvent: aFunction,
} satisfies Record<keyof SessionOptions, Check>

/**
 * Checks every option once, at factory time, and applies the defaults. Every mistake throws a
 * `ConfigError` naming the option.
 *
 * @example
 * resolveOptions({ secretKey, store: new MemoryStore() }).policy.maxStale // 1209600
 */
export function resolveOptions(options: SessionOptions): ResolvedOptions {
  checkOptions(OWNER, options, SESSION_OPTIONS, ALL_OPTION_NAMES)
  if (options.secretKey === undefined) {
    throw new ConfigError(
      `Session middleware requires the "secretKey" option: a random string of at least ${MIN_SECRET_LENGTH} characters ` +
        '(or an array of them, newest first), e.g. from `openssl rand -base64 32`.',
      'secretKey',
      'code',
    )
  }
  if (options.store === undefined) {
    throw new ConfigError(
      'Session middleware requires the "store" option: a DynamoDBStore or a MemoryStore.',
      'store',
      'code',
    )
  }
  const secrets = (Array.isArray(options.secretKey) ? options.secretKey : [options.secretKey]).map(
    (secret: Secret) => (secret instanceof Uint8Array ? new Uint8Array(secret) : secret),
  )
  const encrypt = options.encrypt ?? false
  if (encrypt && secrets.some(isCryptoKey)) {
    throw optionError(
      { owner: OWNER, path: 'encrypt' },
      'cannot be true with a CryptoKey in "secretKey": sealing needs the secret itself, which a CryptoKey does not give. ' +
        'Give the secrets as strings or Uint8Arrays, or leave encrypt off.',
    )
  }
  const maxStale = options.maxStale ?? DEFAULT_MAX_STALE
  const touchAfter = options.touchAfter ?? Math.min(3600, Math.floor(maxStale / 10))
  if (touchAfter >= maxStale) {
    throw optionError(
      { owner: OWNER, path: 'touchAfter' } satisfies OptionAt,
      `(${touchAfter}) must be less than "maxStale" (${maxStale}).`,
    )
  }
  return {
    secrets,
    store: options.store,
    policy: { maxStale, maxAge: options.maxAge, touchAfter },
    cookieFor: createCookieChooser(options.cookie, options.trustProxy ?? false),
    encrypt,
    onError: options.onError ?? defaultOnError,
    onEvent: options.onEvent,
  }
}
