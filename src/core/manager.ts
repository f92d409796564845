import { SessionError, SessionStoreError } from '../errors.ts'
import { nowInSeconds, type Store, setOwn, withChanges } from '../store/store.ts'
import { changedKeys, snapshot } from './changes.ts'
import { type CookieOptions, createSessionCookie } from './cookie.ts'
import {
  createSessionId,
  hashSessionId,
  importSigningKeys,
  signSessionId,
  type VerifiedSessionId,
  verifySignedSessionId,
} from './crypto.ts'
import { RecentMap } from './recent.ts'
import { createSealer } from './sealing.ts'
import {
  createSessionState,
  Session,
  type SessionData,
  type SessionState,
  type StoredSession,
} from './session.ts'

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

export const DEFAULT_MAX_STALE = 14 * 24 * 60 * 60
export const MIN_SECRET_LENGTH = 32
/** How many fresh ids a create tries before giving up; a collision of 256-bit ids is not expected. */
const MAX_CREATE_ATTEMPTS = 3
/** How many recent cookies' checks and store keys each middleware remembers. */
const RECENT_COOKIES = 1000

/** What the response needs after the session is saved: a new cookie, an expired one, or none. */
type CookieChange = 'set' | 'expire' | undefined

export interface SessionManager<Data extends SessionData> {
  /** Reads and verifies the cookie (no store I/O) and attaches the session to the request. */
  open(request: Request): Promise<Session<Data>>
  /** Saves what the handler changed and adds the cookie to the response. */
  commit(session: Session<Data>, response: Response, request: Request): Promise<Response>
  /** The response onError chose when `error`, thrown out of the handler, is this session's failed load. */
  recover(session: Session<Data>, error: unknown): Response | undefined
}

const sessionsByRequest = new WeakMap<Request, Session>()

/**
 * The session of a request that passed through the session middleware.
 *
 * @example
 * const session = getSession<{ count: number }>(request)
 * await session.set('count', ((await session.get('count')) ?? 0) + 1)
 */
export function getSession<Data extends SessionData = SessionData>(request: Request): Session<Data> {
  const session = sessionsByRequest.get(request)
  if (!session) {
    throw new Error(
      'getSession() found no session for this request: pass it through sessionMiddleware() first, ' +
        'and call getSession() with the same Request object that the middleware handed to your handler.',
    )
  }
  return session as Session<Data>
}

/**
 * Validates the options once and returns the per-request steps that the fetch middleware and
 * the framework adapters share.
 */
export function createSessionManager<Data extends SessionData>(
  options: SessionOptions,
): SessionManager<Data> {
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
  const cookie = createSessionCookie(options.cookie)
  const onError = options.onError ?? defaultOnError
  const keys = importSigningKeys(secrets)
  const sealer = createSealer(secrets, options.encrypt ?? false)
  const states = new WeakMap<Session<Data>, SessionState>()
  // A returning visitor sends the same cookie again and again: its check (HMAC) and its store
  // key (SHA-256) are remembered, so a repeat request makes no WebCrypto call. `false` remembers
  // a cookie that did not verify.
  const verifiedCookies = new RecentMap<string, VerifiedSessionId | false>(RECENT_COOKIES)
  const storeKeys = new RecentMap<string, string>(RECENT_COOKIES)

  const verify = async (value: string): Promise<VerifiedSessionId | undefined> => {
    let verified = verifiedCookies.get(value)
    if (verified === undefined) {
      verified = (await verifySignedSessionId(value, await keys)) ?? false
      verifiedCookies.set(value, verified)
    }
    return verified || undefined
  }

  const storeKey = async (id: string): Promise<string> => {
    let key = storeKeys.get(id)
    if (key === undefined) {
      key = await hashSessionId(id)
      storeKeys.set(id, key)
    }
    return key
  }

  const expiresAt = (createdAt: number, updatedAt: number) =>
    Math.min(updatedAt + maxStale, maxAge === undefined ? Number.POSITIVE_INFINITY : createdAt + maxAge)

  /** Guards every store call, so a custom store's own errors surface typed, too. */
  const call = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw error instanceof SessionError ? error : new SessionStoreError(operation, error)
    }
  }

  /** A failed load goes to onError at once, so the handler can go on when it chooses to fail open. */
  const readFor =
    (request: Request, state: () => SessionState) =>
    async (id: string): Promise<StoredSession | undefined> => {
      try {
        return await read(id)
      } catch (error) {
        if (!(error instanceof SessionError)) throw error
        if (error.code === 'SESSION_UNREADABLE') {
          // Tampered or sealed by a retired secret: reported, then treated as no session at all.
          await onError(error, request, 'unseal')
          return undefined
        }
        const response = await onError(error, request, 'load')
        if (response === undefined) {
          state().readOnly = true
          return undefined
        }
        state().failure = { error, response }
        throw error
      }
    }

  const read = async (id: string): Promise<StoredSession | undefined> => {
    const key = await storeKey(id)
    const record = await call('load', () => store.load(key))
    // Expiry is recomputed with today's options, so shortening maxStale or maxAge takes effect at once.
    const live =
      record && Math.min(record.expiresAt, expiresAt(record.createdAt, record.updatedAt)) > nowInSeconds()
    if (!live) return undefined
    const { data, staleKeys } = await sealer.decode(record.data)
    return { record: { ...record, data }, json: snapshot(data), encoded: record.data, staleKeys }
  }

  /** The stored form of `data`: `base` for the keys not listed, freshly encoded values for those listed. */
  const encode = async (data: SessionData, keys: readonly string[], base: SessionData = {}) => {
    const fresh: SessionData = {}
    for (const key of keys) if (Object.hasOwn(data, key)) setOwn(fresh, key, await sealer.encode(data[key]))
    return withChanges(base, fresh, keys)
  }

  /** Writes a new session under `state.id`, or a fresh id when that one is taken; returns its store key. */
  const create = async (
    state: SessionState,
    data: SessionData,
    userId: string | undefined,
    now: number,
    createdAt: number,
  ): Promise<string> => {
    for (let attempt = 1; attempt <= MAX_CREATE_ATTEMPTS; attempt++) {
      state.id ??= createSessionId()
      const key = await storeKey(state.id)
      const record = { key, data, createdAt, updatedAt: now, expiresAt: expiresAt(createdAt, now), userId }
      if (await call('create', () => store.create(record))) return key
      state.id = createSessionId()
    }
    throw new SessionError(
      'SESSION_ID_COLLISION',
      `No free session id after ${MAX_CREATE_ATTEMPTS} attempts.`,
    )
  }

  /** True unless the store refused; a store from before delete() answered resolves undefined: deleted. */
  const deleted = async (key: string, onlyIf?: 'live' | { version: number }) =>
    (await call('delete', () => store.delete(key, onlyIf))) !== false

  /**
   * Decides once, after the handler, what to write; returns what the cookie needs. The current
   * session is written before the items that destroy() left behind are deleted.
   */
  const save = async (state: SessionState): Promise<CookieChange> => {
    const change = await saveCurrent(state)
    for (const id of state.obsoleteIds) await deleted(await storeKey(id))
    return change
  }

  const saveCurrent = async (state: SessionState): Promise<CookieChange> => {
    const loaded = state.loaded
    if (!loaded || state.readOnly) return undefined // untouched, or loading failed open: no writes
    const now = nowInSeconds()
    const data = Object.fromEntries(loaded.values)
    const { stored, userId } = loaded
    const empty = loaded.values.size === 0 && userId === undefined
    if (!stored) return saveNew(state, data, userId, now, empty)
    const { record } = stored
    const changed = changedKeys(stored.json, data)
    const userChanged = userId !== record.userId
    const unchanged = changed.length === 0 && !userChanged
    if (unchanged && now - record.updatedAt < touchAfter) return state.signedWithOlderKey ? 'set' : undefined
    // After a write the cookie is renewed when it is persistent (its expiry slid) or re-signed.
    const written: CookieChange = cookie.persistent || state.signedWithOlderKey ? 'set' : undefined
    // Left empty: deleted, unless another request wrote to it since it was read; then only this
    // request's removals are written below, and that request's change stays.
    if (!unchanged && empty && (await deleted(record.key, { version: record.version ?? 0 }))) return 'expire'
    const next = { ...record, updatedAt: now, expiresAt: expiresAt(record.createdAt, now), userId }
    // Stale keys (the other form, or an older secret's seal) are rewritten along with the changes,
    // or in place of a touch, so every value is sealed by the newest secret within touchAfter; but
    // only if no other request wrote since the read, lest their old values undo its change.
    const stale = stored.staleKeys.filter((key) => !changed.includes(key))
    if (stale.length > 0) {
      const keys = [...changed, ...stale]
      const resealed = { ...next, data: await encode(data, keys, stored.encoded) }
      if (await call('update', () => store.update(resealed, keys, { userChanged, ifUnchanged: true }))) {
        return written
      }
    }
    // A session destroyed meanwhile stays destroyed, and its cookie is left to that request.
    if (unchanged) {
      const touched = await call('touch', () => store.touch(next))
      return touched ? written : undefined
    }
    const update = { ...next, data: await encode(data, changed, stored.encoded) }
    return (await call('update', () => store.update(update, changed, { userChanged }))) ? written : undefined
  }

  /** A session not stored yet: new, or moved to a new id by regenerate(). */
  const saveNew = async (
    state: SessionState,
    data: SessionData,
    userId: string | undefined,
    now: number,
    empty: boolean,
  ): Promise<CookieChange> => {
    const moved = state.movedFrom
    const movedKey = moved && (await storeKey(moved.id))
    if (empty) {
      if (movedKey !== undefined) await deleted(movedKey)
      return state.destroyed || state.hadBadCookie || movedKey !== undefined ? 'expire' : undefined
    }
    changedKeys(new Map(), data) // proves every value storable
    const key = await create(
      state,
      await encode(data, Object.keys(data)),
      userId,
      now,
      moved?.createdAt ?? now,
    )
    // regenerate(): the new item is written first, so a failure never loses the session, and the
    // old one is deleted only while it is live. When another request ended it meanwhile (a
    // logout), the session stays ended: the new item goes too, and the cookie is left to that request.
    if (movedKey === undefined || (await deleted(movedKey, 'live'))) return 'set'
    await deleted(key)
    return undefined
  }

  return {
    async open(request) {
      const value = cookie.read(request)
      const verified = value === undefined ? undefined : await verify(value)
      const state: SessionState = createSessionState(
        { verified, present: value !== undefined },
        readFor(request, () => state),
      )
      const session = new Session<Data>(state)
      states.set(session, state)
      sessionsByRequest.set(request, session)
      return session
    },

    async commit(session, response, request) {
      const state = stateOf(session)
      // A failed load fails closed even when the handler caught the error and carried on.
      if (state.failure) return state.failure.response
      // Never used: nothing to save and no cookie to change. Returning before request.signal is
      // read saves the abort signal that some servers (@hono/node-server) only make on demand.
      if (!state.loaded) return response
      // A 5xx means the handler failed part way, and an aborted request's client never sees the
      // cookie: either way what the handler changed is not saved.
      if (response.status >= 500 || request.signal.aborted) return response
      let change: CookieChange
      try {
        change = await save(state)
      } catch (error) {
        if (!(error instanceof SessionError)) throw error
        return (await onError(error, request, 'save')) ?? response
      }
      if (!change) return response
      const header =
        change === 'set'
          ? cookie.serialize(await signSessionId(state.id as string, (await keys)[0] as CryptoKey))
          : cookie.expire()
      return appendSetCookie(response, header)
    },

    recover(session, error) {
      const { failure } = stateOf(session)
      return failure && failure.error === error ? failure.response : undefined
    },
  }

  function stateOf(session: Session<Data>): SessionState {
    const state = states.get(session)
    if (!state) throw new Error('This session was not opened by this session middleware.')
    return state
  }
}

/**
 * An `onError` that serves the request anyway and logs what that cost: an empty session when
 * loading failed, the unsaved change when saving failed. For sites where a page without its
 * session beats an error page.
 */
export function failOpen(
  error: SessionError,
  request: Request,
  phase: 'load' | 'save' | 'unseal',
): undefined {
  const cost = phase === 'save' ? 'served without saving the session' : 'served with an empty session'
  console.error(`${describe(error, request)} (fail open: ${cost})`)
  return undefined
}

function defaultOnError(error: SessionError, request: Request, phase: 'load' | 'save' | 'unseal'): Response {
  console.error(`${describe(error, request)} (${phase === 'unseal' ? 'read as no session' : 'fail closed'})`)
  const status = error.code === 'STORE_UNAVAILABLE' ? 503 : 500
  return new Response(status === 503 ? 'Service Unavailable' : 'Internal Server Error', {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  })
}

function describe(error: SessionError, request: Request): string {
  return `[dynamodb-session] ${request.method} ${new URL(request.url).pathname}: ${error.code}: ${error.message}`
}

/** Appends, never replaces; a response from fetch() has immutable headers, so it is copied first. */
function appendSetCookie(response: Response, header: string): Response {
  try {
    response.headers.append('set-cookie', header)
    return response
  } catch {
    const copy = new Response(response.body, response)
    copy.headers.append('set-cookie', header)
    return copy
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
