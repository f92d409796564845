import { SessionValueError } from '../errors.ts'
import type { SessionRecord } from '../store/store.ts'
import { createSessionId, type VerifiedSessionId } from './crypto.ts'
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
  /**
   * The request's session cookie while it is unread: the middleware reads and verifies it on the
   * session's first use, so a request that never uses its session costs no header read and no
   * WebCrypto call. Undefined once settled, and for a state made with its cookie already known.
   */
  cookie: CookieCheck | undefined
}

/** Settles the cookie fields of a SessionState (id, storedId, signedWithOlderKey, hadBadCookie). */
export interface CookieCheck {
  /** Settles them at once, for the synchronous `id` getter. */
  now(): void
  verify(): Promise<void>
}

/** Reads the live stored session of an id, or undefined. */
export type LoadStored = (id: string) => Promise<StoredSession | undefined>

export function createSessionState(cookie: {
  verified: VerifiedSessionId | undefined
  present: boolean
}): SessionState {
  const { verified } = cookie
  return {
    id: verified?.id,
    storedId: verified?.id,
    loaded: undefined,
    loading: undefined,
    failure: undefined,
    readOnly: false,
    movedFrom: undefined,
    obsoleteIds: [],
    flashedNow: new Set(),
    destroyed: false,
    signedWithOlderKey: verified?.signedWithOlderKey ?? false,
    hadBadCookie: cookie.present && !verified,
    hadStaleCookie: false,
    cookie: undefined,
  }
}

/** Flash values live beside the others under a reserved key, so one item holds both. */
const FLASH_KEY = /^__flash_(.*)__$/

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
 * A request's session. Data is loaded from the store on the first read or write, never
 * before, so a request that does not use its session costs nothing.
 */
export class Session<Data extends SessionData = SessionData> {
  static {
    idsOf = async (session) => {
      await session.#state.cookie?.verify()
      const { id, storedId, movedFrom } = session.#state
      return [id, storedId, movedFrom?.id].filter((id) => id !== undefined)
    }
  }

  readonly #state: SessionState
  readonly #loadStored: LoadStored

  /** @internal Sessions are made by the middleware. */
  constructor(state: SessionState, loadStored: LoadStored) {
    this.#state = state
    this.#loadStored = loadStored
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
    return values.get(key) as Data[Key] | undefined
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
    return values.has(key) || (values.has(flashKey(key)) && !this.#state.flashedNow.has(key))
  }

  /** Every value except unread flash values. */
  async all(): Promise<Partial<Data>> {
    const { values } = await this.#load()
    const entries = [...values].filter(([key]) => !FLASH_KEY.test(key))
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
    state.loading ??= readSession(state, this.#loadStored).then((loaded) => {
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

/** Longer key names are refused: every store must hold them, and DynamoDB's names stop at 64 KB. */
const MAX_KEY_BYTES = 1024
const encoder = new TextEncoder()

function assertUserKey(key: string): void {
  if (typeof key !== 'string' || FLASH_KEY.test(key)) {
    throw new SessionValueError(
      `Cannot use "${String(key)}" as a session key: keys like __flash_*__ are reserved.`,
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
