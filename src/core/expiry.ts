import { SessionValueError } from '../errors.ts'
import { MAX_COOKIE_AGE } from './cookie.ts'
import type { ExpiryPolicy } from './options.ts'

// When a session ends: the middleware's rules (maxStale, maxAge), or one session's own choice
// (session.setExpiry(): "remember me"), which is stored with its values under a reserved key so
// that it survives regenerate() and every later request honours it.

/**
 * How long one session lives, set with `session.setExpiry()`:
 * - `{ idle: seconds }`: ends after this many seconds without a request (this session's own
 *   `maxStale`); its cookie gets a matching Max-Age, renewed as the session slides;
 * - `{ at: Date }`: ends at that moment however active (never later than `maxAge` allows); its
 *   cookie lasts until then;
 * - `'browser'`: the cookie ends with the browser session; the store keeps the idle expiry.
 */
export type SessionExpiry = { idle: number } | { at: Date } | 'browser'

/** A `SessionExpiry` as stored: `at` in epoch seconds. */
export type StoredExpiry = { idle: number } | { at: number } | 'browser'

/** The reserved key under which a session's own expiry is kept among its values. */
export const EXPIRY_KEY = '__expiry__'

/** Checks `expiry` and turns it into its stored form. */
export function toStoredExpiry(expiry: SessionExpiry): StoredExpiry {
  if (expiry === 'browser') return expiry
  if (typeof expiry === 'object' && expiry !== null && 'idle' in expiry) {
    const { idle } = expiry
    if (Number.isInteger(idle) && idle >= 1 && idle <= MAX_COOKIE_AGE) return { idle }
    throw invalid(
      `{ idle: ${String(idle)} }: idle must be a whole number of seconds from 1 to ${MAX_COOKIE_AGE} (400 days)`,
    )
  }
  if (typeof expiry === 'object' && expiry !== null && 'at' in expiry) {
    const time = expiry.at instanceof Date ? expiry.at.getTime() : Number.NaN
    if (Number.isFinite(time)) return { at: Math.floor(time / 1000) }
    throw invalid(`{ at: ${String(expiry.at)} }: at must be a valid Date`)
  }
  throw invalid(`${JSON.stringify(expiry)}: use { idle: seconds }, { at: Date } or 'browser'`)
}

/** A session's stored expiry, from the value under EXPIRY_KEY; undefined when none (or a malformed one). */
export function storedExpiry(value: unknown): StoredExpiry | undefined {
  if (value === 'browser') return value
  if (typeof value !== 'object' || value === null) return undefined
  if ('idle' in value && Number.isInteger(value.idle)) return { idle: value.idle as number }
  if ('at' in value && Number.isInteger(value.at)) return { at: value.at as number }
  return undefined
}

/**
 * When a session created at `createdAt` and last active at `updatedAt` expires: at its own
 * `at`, or idle for its own or the middleware's `maxStale`; never past `maxAge` from creation.
 */
export function expiresAt(
  policy: ExpiryPolicy,
  createdAt: number,
  updatedAt: number,
  expiry?: StoredExpiry,
): number {
  const own = typeof expiry === 'object' ? expiry : undefined
  const end = own && 'at' in own ? own.at : updatedAt + (own?.idle ?? policy.maxStale)
  return Math.min(end, policy.maxAge === undefined ? Number.POSITIVE_INFINITY : createdAt + policy.maxAge)
}

/** How often an unchanged session's expiry slides: a short idle expiry slides more often. */
export function touchAfter(policy: ExpiryPolicy, expiry: StoredExpiry | undefined): number {
  const idle = typeof expiry === 'object' && 'idle' in expiry ? expiry.idle : undefined
  return idle === undefined ? policy.touchAfter : Math.min(policy.touchAfter, Math.floor(idle / 10))
}

/**
 * What the session's cookie lasts: `'browser'` for a browser-session cookie, a time (epoch
 * seconds) for one that ends with the session, or undefined for the cookie options' own.
 */
export function cookieLifetime(
  expiry: StoredExpiry | undefined,
  ends: number,
): number | 'browser' | undefined {
  if (expiry === undefined) return undefined
  return expiry === 'browser' ? 'browser' : ends
}

function invalid(detail: string): SessionValueError {
  return new SessionValueError(`Cannot set the session's expiry to ${detail}.`)
}
