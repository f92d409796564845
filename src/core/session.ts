import { SessionError, SessionValueError } from '../errors.ts'
import { type SessionRecord, withChanges } from '../store/store.ts'
import { createSessionId } from './crypto.ts'
import type { EventRecorder } from './events.ts'
import { EXPIRY_KEY, type SessionExpiry, toStoredExpiry } from './expiry.ts'
import { assertStorable } from './values.ts'

export type SessionData = Record<string, unknown>

/** A live stored session, its values decoded (unsealed) for the handler. */
export interface StoredSession {
  /** The record with decoded values, as the request found it; the handler gets these very values. */
  record: SessionRecord
  /** Each decoded value as JSON, as read: what the dirty check compares the handler's values with. */
  json: ReadonlyMap<string, string>
  /** The values as stored (sealed, when encryption is on): unchanged keys are written back as they are. */
  encoded: SessionData
  /** Keys stored in the form the current `encrypt` option does not use: rewritten on the next write. */
  staleKeys: string[]
}

/** What the session holds once loaded: the stored session it came from, if any, and its values. */
export interface LoadedSession {
  /** Undefined for a session that is not stored yet (new, regenerated or destroyed). */
  stored: StoredSession | undefined
  /** The values as the handler left them; a Map, so keys like `__proto__` are plain data. */
  values: Map<string, unknown>
  /** The user the session is bound to, as the handler left it. */
  userId: string | undefined
}

/**
 * Everything one request did to its session, kept apart from any I/O so the middleware can
 * decide once, after the handler, what to write.
 */
export interface SessionState {
  /** Made when first needed: a request that never stores its session never pays for an id. */
  id: string | undefined
  /** The id whose item may be in the store: the verified cookie's, until destroy or regenerate. */
  storedId: string | undefined
  loaded: LoadedSession | undefined
  loading: Promise<LoadedSession> | undefined
  /** A load that failed, and the response onError chose for it: the request fails closed. */
  failure: { error: unknown; response: Response } | undefined
  /** Loading failed and onError chose to go on: the empty session is served but never saved. */
  readOnly: boolean
  /**
   * The session regenerate() moved to a new id: its item goes once the new one is written, and
   * the new one keeps its creation time, so `maxAge` still counts from there.
   */
  movedFrom: { id: string; createdAt: number } | undefined
  /** Ids whose items must be deleted: the ones destroy() left behind. */
  obsoleteIds: string[]
  /** Flash keys set during this request: they are for a later request, not this one. */
  flashedNow: Set<string>
  destroyed: boolean
  /** The cookie verified under an older secret: the response should carry a re-signed one. */
  signedWithOlderKey: boolean
  /** A cookie came but did not verify: once the session is used, the response expires it. */
  hadBadCookie: boolean
  /**
   * The cookie verified, but its session was gone (expired, collected, logged out everywhere):
   * the response expires it, so later requests cost no read.
   */
  hadStaleCookie: boolean
  /** False when the request must neither extend the session's expiry nor renew its cookie. */
  keepAlive: boolean
  /**
   * The request's session cookie while it is unread: the middleware reads and verifies it on the
   * session's first use, so a request that never uses its session costs no header read and no
   * WebCrypto call. Undefined once settled, and for a state made with its cookie already known.
   */
  cookie: CookieCheck | undefined
  /**
   * The cookie a write during the request (save(), update()) earned: the response carries it
   * unless the end-of-request commit decides another.
   */
  savedCookie: { change: 'set' | 'expire'; lifetime: number | 'browser' | undefined } | undefined
  /** Collects the store calls and reports what happened, when the `onEvent` option is given. */
  events: EventRecorder | undefined
}

/** Settles the cookie fields of a SessionState (id, storedId, signedWithOlderKey, hadBadCookie). */
export interface CookieCheck {
  /** Settles them at once, for the synchronous `id` getter. */
  now(): void
  verify(): Promise<void>
}

/** Reads the live stored session of an id, or undefined. */
export type LoadStored = (id: string) => Promise<StoredSession | undefined>

/** What a session asks of its middleware: its stored data, and when it will expire. */
export interface SessionHooks {
  load: LoadStored
  /** When the session will expire once this request is saved (epoch seconds), if it will be stored. */
  expiresAt(): number | undefined
  /** Writes what the request changed so far, as the end-of-request commit would. */
  save(): Promise<void>
  /**
   * Writes `value` under `key` (undefined: removes it) at once, only while the stored value of
   * that key is still the one this request read; false when another request changed it.
   */
  writeKey(key: string, value: unknown): Promise<boolean>
}

/**
 * A request's state before its cookie is read: no id yet. The middleware's cookie check
 * (`state.cookie`) fills in the id and the cookie flags on the session's first use.
 */
export function createSessionState(): SessionState {
  return {
    id: undefined,
    storedId: undefined,
    loaded: undefined,
    loading: undefined,
    failure: undefined,
    readOnly: false,
    movedFrom: undefined,
    obsoleteIds: [],
    flashedNow: new Set(),
    destroyed: false,
    signedWithOlderKey: false,
    hadBadCookie: false,
    hadStaleCookie: false,
    keepAlive: true,
    cookie: undefined,
    savedCookie: undefined,
    events: undefined,
  }
}

/**
 * Keys the library keeps among the values, so one item holds them all: flash values
 * (`__flash_<key>__`) and the session's own expiry (`__expiry__`).
 */
const RESERVED_KEY = /^__flash_(.*)__$|^__expiry__$/

export function flashKey(key: string): string {
  return `__flash_${key}__`
}

let idsOf: (session: Session) => Promise<string[]>

/**
 * Every id whose item belongs to this request's session: its id, and the id regenerate() moved
 * it from until the move is saved. "Log out everywhere else" keeps them all.
 */
export function ownIds(session: Session): Promise<string[]> {
  return idsOf(session)
}

/**
 * @internal Every value a session holds, flash values under their stored `__flash_<key>__` names,
 * read without consuming them: for adapters whose framework keeps its own session object (React
 * Router's `SessionStorage`) and compares it with what was loaded. Loads the session if needed.
 */
export let loadedValues: (session: Session) => Promise<ReadonlyMap<string, unknown>>

/**
 * A request's session. Data is loaded from the store on the first read or write, never
 * before, so a request that does not use its session costs nothing.
 */
export class Session<Data extends SessionData = SessionData> {
  // Internal views for the middleware's helpers, kept off the public API.
  static {
    idsOf = async (session) => {
      await session.#state.cookie?.verify()
      const { id, storedId, movedFrom } = session.#state
      return [id, storedId, movedFrom?.id].filter((id) => id !== undefined)
    }
    loadedValues = async (session) => (await session.#load()).values
  }

  readonly #state: SessionState
  readonly #hooks: SessionHooks

  /** @internal Sessions are made by the middleware. */
  constructor(state: SessionState, hooks: SessionHooks) {
    this.#state = state
    this.#hooks = hooks
  }

  /**
   * The session id (the cookie's, before signing). A cookie whose session is unknown is not
   * adopted: once loaded, such a session has a new id. Read first, it verifies the cookie then.
   */
  get id(): string {
    this.#state.cookie?.now()
    this.#state.id ??= createSessionId()
    return this.#state.id
  }

  /** The value under `key`; a flash value set on an earlier request is returned once, then gone. */
  async get<Key extends keyof Data & string>(key: Key): Promise<Data[Key] | undefined> {
    const { values } = await this.#load()
    const flashed = flashKey(key)
    if (values.has(flashed) && !this.#state.flashedNow.has(key)) {
      const value = values.get(flashed)
      values.delete(flashed)
      return value as Data[Key]
    }
    return RESERVED_KEY.test(key) ? undefined : (values.get(key) as Data[Key] | undefined)
  }

  /** Sets a value; it must survive JSON (see the README). Setting `undefined` deletes the key. */
  async set<Key extends keyof Data & string>(key: Key, value: Data[Key]): Promise<void> {
    assertUserKey(key)
    if (value === undefined) return this.delete(key)
    assertStorable(value, key)
    const { values } = await this.#load()
    values.set(key, value)
  }

  async delete(key: keyof Data & string): Promise<void> {
    const { values } = await this.#load()
    values.delete(key)
  }

  /** True when `key` has a value or an unread flash value from an earlier request. */
  async has(key: keyof Data & string): Promise<boolean> {
    const { values } = await this.#load()
    if (RESERVED_KEY.test(key)) return false
    return values.has(key) || (values.has(flashKey(key)) && !this.#state.flashedNow.has(key))
  }

  /** Every value except unread flash values. */
  async all(): Promise<Partial<Data>> {
    const { values } = await this.#load()
    const entries = [...values].filter(([key]) => !RESERVED_KEY.test(key))
    return Object.fromEntries(entries) as Partial<Data>
  }

  /** Removes every value (not the user it is bound to); a session left with neither is deleted from the store. */
  async clear(): Promise<void> {
    const { values } = await this.#load()
    values.clear()
  }

  /** Sets a value that a later request can read exactly once, e.g. a message after a redirect. */
  async flash<Key extends keyof Data & string>(key: Key, value: Data[Key]): Promise<void> {
    assertUserKey(key)
    assertStorable(value, key)
    const { values } = await this.#load()
    values.set(flashKey(key), value)
    this.#state.flashedNow.add(key)
  }

  /**
   * Binds the session to a user, so that `listUserSessions()` and `destroyUserSessions()` find
   * it ("log out everywhere"); `undefined` unbinds it. Kept across `regenerate()`.
   */
  async setUser(userId: string | undefined): Promise<void> {
    if (userId !== undefined && (typeof userId !== 'string' || userId === '' || userId.length > 1024)) {
      throw new SessionValueError(
        'Cannot bind the session to that user: the user id must be a string of 1 to 1024 characters.',
      )
    }
    const loaded = await this.#load()
    loaded.userId = userId
  }

  /** The user the session is bound to, if any. */
  async getUser(): Promise<string | undefined> {
    return (await this.#load()).userId
  }

  /**
   * Sets how long this session lives, apart from the middleware's `maxStale`: `{ idle: seconds }`
   * ("remember me": its own idle expiry, and a cookie that lasts as long), `{ at: Date }` (an
   * absolute end, never past `maxAge`), or `'browser'` (a cookie that ends with the browser
   * session). Stored with the session, kept across `regenerate()`, honoured by later requests;
   * a shorter expiry takes effect at once.
   *
   * @example
   * await session.regenerate()
   * if (form.get('remember') === 'on') await session.setExpiry({ idle: 30 * 24 * 60 * 60 })
   */
  async setExpiry(expiry: SessionExpiry): Promise<void> {
    const stored = toStoredExpiry(expiry)
    const { values } = await this.#load()
    values.set(EXPIRY_KEY, stored)
  }

  /**
   * When this session will expire if no other request comes, once this one is saved; undefined
   * for a session that will not be stored (empty or destroyed).
   *
   * @example
   * const ends = await session.expiresAt() // "you will be signed out at …"
   */
  async expiresAt(): Promise<Date | undefined> {
    await this.#load()
    const seconds = this.#hooks.expiresAt()
    return seconds === undefined ? undefined : new Date(seconds * 1000)
  }

  /**
   * `keepAlive(false)`: this request reads the session without extending its idle expiry or
   * renewing its cookie, so polling and background requests cannot keep an abandoned session
   * alive. Reading stays one store read and no write; a value the handler changes is still saved.
   */
  keepAlive(keep: boolean): void {
    this.#state.keepAlive = keep
  }

  /**
   * Writes the session now, as the end of the request would (only what changed, on the same
   * conditions); the end of the request then writes only what changes after this. The cookie
   * this write earns is still set on the response. Use it before a redirect or a long-running
   * step, when another request must already see the change.
   *
   * @example
   * await session.set('cart', cart)
   * await session.save() // a request sent before this response arrives sees the cart
   */
  async save(): Promise<void> {
    await this.#load()
    await this.#hooks.save()
  }

  /**
   * Drops what this request changed and not yet saved, and reads the session from the store
   * again. After an unsaved regenerate(), the data is read again from the old id and still moves
   * to the new one; a destroyed session stays destroyed.
   *
   * @example
   * await session.reload() // see what another tab wrote meanwhile
   */
  async reload(): Promise<void> {
    const state = this.#state
    await state.loading?.catch(() => {}) // a load in flight settles first, and is replaced
    state.loaded = undefined
    state.loading = undefined
    state.flashedNow.clear()
    const movedFrom = state.movedFrom
    if (!movedFrom) {
      await this.#load()
      return
    }
    // regenerate() not yet saved: the data of the old id, not stored under the new one yet.
    const old = await this.#hooks.load(movedFrom.id)
    const values = new Map(Object.entries(old?.record.data ?? {}))
    state.loaded = { stored: undefined, values, userId: old?.record.userId }
  }

  /**
   * Changes one value safely against concurrent requests: applies `fn` to the current value and
   * writes the result at once with a compare-and-swap on that key alone; when another request
   * changed the key meanwhile, reads it again and applies `fn` again (up to 20 attempts, then a
   * `SessionError` with code `SESSION_CONFLICT`), so two tabs adding to one counter or cart both
   * count. `fn` may run more than once: keep it free of side effects. Resolves to the value
   * written; `undefined` from `fn` removes the key. Other unsaved changes wait for the end of the
   * request. When the session was ended meanwhile (logged out elsewhere), nothing is written and
   * the session reads empty from then on.
   *
   * @example
   * const count = await session.update('count', (count = 0) => count + 1)
   */
  async update<Key extends keyof Data & string>(
    key: Key,
    fn: (current: Data[Key] | undefined) => Data[Key] | undefined | Promise<Data[Key] | undefined>,
  ): Promise<Data[Key] | undefined> {
    assertUserKey(key)
    const loaded = await this.#load()
    let current = loaded.values.get(key) as Data[Key] | undefined
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const next = await fn(structuredClone(current))
      if (next !== undefined) assertStorable(next, key)
      const stored = this.#state.loaded?.stored
      if (!stored || this.#state.readOnly) {
        // Not stored yet: nothing to race with; a new session is created under a fresh id.
        await (next === undefined ? this.delete(key) : this.set(key, next))
        await this.save()
        return next
      }
      if (await this.#hooks.writeKey(key, next)) return next
      const fresh = await this.#reread(key)
      if (!fresh.live) return undefined
      current = fresh.value as Data[Key] | undefined
    }
    const error = new SessionError(
      'SESSION_CONFLICT',
      `Other requests changed session key "${key}" ${MAX_UPDATE_ATTEMPTS} times while session.update() ` +
        'tried to write it; nothing was written. Retry the request, or keep fewer requests changing one key at once.',
    )
    this.#state.events?.emit('storeError', { error })
    throw error
  }

  /**
   * After a refused one-key write: the key's value as stored now, taken as the new baseline of
   * that key (other keys keep this request's view). A session gone meanwhile reads empty.
   */
  async #reread(key: string): Promise<{ live: boolean; value?: unknown }> {
    const state = this.#state
    const loaded = state.loaded as LoadedSession
    const fresh = state.storedId === undefined ? undefined : await this.#hooks.load(state.storedId)
    const stored = loaded.stored
    if (!fresh || !stored) {
      state.loaded = { stored: undefined, values: new Map(), userId: undefined }
      state.storedId = undefined
      state.id = undefined
      state.hadStaleCookie = true
      return { live: false }
    }
    rebaseKey(stored, fresh, key)
    const value = fresh.record.data[key]
    if (Object.hasOwn(fresh.record.data, key)) loaded.values.set(key, value)
    else loaded.values.delete(key)
    return { live: true, value }
  }

  /**
   * Moves the data to a new id and deletes the old item, so an id an attacker planted before
   * login is worthless after it. Call it when privileges change (login, logout, sudo).
   */
  async regenerate(): Promise<void> {
    const loaded = await this.#load()
    const state = this.#state
    if (loaded.stored && state.storedId !== undefined) {
      state.movedFrom = { id: state.storedId, createdAt: loaded.stored.record.createdAt }
    }
    state.storedId = undefined
    state.id = undefined
    loaded.stored = undefined
  }

  /**
   * Deletes the stored session and expires its cookie. The session continues empty under a
   * new id: a value set after this starts a new session.
   */
  async destroy(): Promise<void> {
    const state = this.#state
    await state.cookie?.verify()
    for (const id of [state.storedId, state.movedFrom?.id]) if (id !== undefined) state.obsoleteIds.push(id)
    state.storedId = undefined
    state.movedFrom = undefined
    state.id = undefined
    state.loaded = { stored: undefined, values: new Map(), userId: undefined }
    state.destroyed = true
  }

  #load(): Promise<LoadedSession> {
    const state = this.#state
    if (state.loaded) return Promise.resolve(state.loaded)
    state.loading ??= readSession(state, this.#hooks.load).then((loaded) => {
      state.loaded ??= loaded
      return state.loaded
    })
    return state.loading
  }
}

async function readSession(state: SessionState, loadStored: LoadStored): Promise<LoadedSession> {
  await state.cookie?.verify()
  const stored = state.storedId === undefined ? undefined : await loadStored(state.storedId)
  if (!stored && state.storedId !== undefined) {
    // An unknown id is never adopted: the client may have chosen it.
    state.storedId = undefined
    state.id = undefined
    state.hadStaleCookie = true
  }
  // No copy: the store's record is this request's own, and the dirty check compares with JSON
  // taken at read time, so values the handler mutates in place are still seen as changed.
  return { stored, values: new Map(Object.entries(stored?.record.data ?? {})), userId: stored?.record.userId }
}

/** How often session.update() re-reads and re-applies on a conflict before it gives up. */
const MAX_UPDATE_ATTEMPTS = 20

/** Takes `key` of `fresh` (what the store holds now) into `stored`, the request's baseline. */
function rebaseKey(stored: StoredSession, fresh: StoredSession, key: string): void {
  const has = Object.hasOwn(fresh.record.data, key)
  stored.record = { ...stored.record, data: withChanges(stored.record.data, fresh.record.data, [key]) }
  stored.encoded = withChanges(stored.encoded, fresh.encoded, [key])
  const json = new Map(stored.json)
  if (has) json.set(key, fresh.json.get(key) as string)
  else json.delete(key)
  stored.json = json
  stored.staleKeys = stored.staleKeys.filter((stale) => stale !== key)
  if (fresh.staleKeys.includes(key)) stored.staleKeys.push(key)
}

/** Longer key names are refused: every store must hold them, and DynamoDB's names stop at 64 KB. */
const MAX_KEY_BYTES = 1024
const encoder = new TextEncoder()

function assertUserKey(key: string): void {
  if (typeof key !== 'string' || RESERVED_KEY.test(key)) {
    throw new SessionValueError(
      `Cannot use "${String(key)}" as a session key: __expiry__ and keys like __flash_*__ are reserved.`,
    )
  }
  const bytes = encoder.encode(key).length
  if (bytes > MAX_KEY_BYTES) {
    throw new SessionValueError(
      `Cannot use a session key of ${bytes} bytes: keys are limited to ${MAX_KEY_BYTES} bytes (UTF-8). ` +
        'Keep data in values, not in key names.',
    )
  }
}
