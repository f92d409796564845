// express-session's store, over this library's Store contract (a DynamoDBStore in practice), so
// Express apps keep express-session and get this library's table: ids hashed at rest, expiry
// checked on every read, throttled touches, per-key conditional writes, the user index.
//
// express-session's Store class is taken as an argument, not imported: this file stays free of
// Node-only imports (express-session needs node:events, node:crypto), the store extends the very
// copy of express-session the app uses, and the call reads as connect-dynamodb's
// `require('connect-dynamodb')({ session })`, so moving over changes one line.
import type { SessionData as ExpressSessionData, Store as ExpressStore } from 'express-session'
import { hashSessionId } from '../core/crypto.ts'
import { nowInSeconds, type SessionRecord, type Store } from '../store/store.ts'

/** An old session to move, as `ConnectDynamoDBTable` (from `dynamodb-session`) finds it. */
export interface LegacySession {
  session: Record<string, unknown>
  expiresAt: number | undefined
}

/** Where old sessions come from: `new ConnectDynamoDBTable(...)` from `dynamodb-session`. */
export interface LegacySessions {
  find(sid: string): Promise<LegacySession | undefined>
  claim(sid: string): Promise<boolean>
  restore(sid: string, session: LegacySession): Promise<void>
}

export interface ExpressSessionStoreOptions {
  /** Where sessions live: a `DynamoDBStore` (or a `MemoryStore` in tests). Required. */
  store: Store
  /**
   * Seconds a session without `cookie.maxAge` (a browser-session cookie) lives after its last
   * write or touch; sessions with `cookie.maxAge` live as long as their cookie.
   * @default 86400 (one day, as connect-dynamodb)
   */
  ttl?: number
  /**
   * `touch` writes only when it moves the stored expiry by at least this many seconds, so most
   * read-only requests write nothing. The stored expiry may then trail the cookie's by as much.
   * @default a tenth of the session's lifetime, at most 3600
   */
  touchAfter?: number
  /**
   * The session field that binds a session to its user (a non-empty string, or a number), for
   * `listUserSessions()` and `destroyUserSessions()`: set `req.session.userId = user.id` at login.
   * @default 'userId'
   */
  userField?: string
  /**
   * Sessions of a connect-dynamodb table to move over: on a miss, the old session is read once,
   * removed from the old table and written into this one, so no one is logged out by the move.
   * Costs a read of the old table on every miss: turn it off once the longest cookie has expired.
   */
  legacy?: LegacySessions
}

/** The express-session store this module makes: express-session's Store, plus the session store beneath. */
export interface DynamoDBSessionStore extends ExpressStore {
  /** The store holding the sessions: pass it to `listUserSessions()` and `destroyUserSessions()`. */
  readonly sessions: Store
  get(sid: string, callback: (error: unknown, session?: ExpressSessionData | null) => void): void
  set(sid: string, session: ExpressSessionData, callback?: (error?: unknown) => void): void
  touch(sid: string, session: ExpressSessionData, callback?: (error?: unknown) => void): void
  destroy(sid: string, callback?: (error?: unknown) => void): void
  /** Not supported: the table holds hashes of the ids, so there are none to list. */
  all(callback: (error: unknown) => void): void
  /** Not supported: it would Scan the whole table. */
  length(callback: (error: unknown) => void): void
  /** Not supported: it would Scan and delete the whole table, one item at a time. */
  clear(callback?: (error?: unknown) => void): void
}

/** express-session itself, or anything with its `Store` class. */
export interface ExpressSessionModule {
  Store: abstract new () => ExpressStore
}

const ONE_DAY = 86_400
const MAX_TOUCH_AFTER = 3600
/** How often, and how far apart, a request looks for a session another request is moving right now. */
const MOVE_WAIT_ATTEMPTS = 5
const MOVE_WAIT_MS = 20

/**
 * What this store read for a session, so that `set` writes only the keys that changed and
 * `touch` knows when the stored expiry was last moved. Kept beside the object express-session
 * holds (the plain object from `get`, then its `Session`), so each request diffs against what it
 * read itself, never against another request's read.
 */
interface Loaded {
  key: string
  /** Each stored key's value as JSON. */
  json: Map<string, string>
  createdAt: number
  expiresAt: number
  userId: string | undefined
  version: number | undefined
}
const loaded = new WeakMap<object, Loaded>()

/**
 * express-session's store class, over this library's table. Give it express-session, then make
 * the store with a `DynamoDBStore`; `createTable`, `check-table`, gc and "log out everywhere"
 * work on the same table.
 *
 * @example
 * import session from 'express-session'
 * import { DynamoDBStore } from 'dynamodb-session'
 * import { expressSessionStore } from 'dynamodb-session/express-session'
 *
 * const DynamoDBSessionStore = expressSessionStore(session)
 * app.use(session({
 *   secret: process.env.SESSION_SECRET, resave: false, saveUninitialized: false,
 *   cookie: { maxAge: 14 * 86_400_000, secure: true, sameSite: 'lax' },
 *   store: new DynamoDBSessionStore({ store: new DynamoDBStore({ tableName: 'sessions' }) }),
 * }))
 */
export function expressSessionStore(
  session: ExpressSessionModule,
): new (
  options: ExpressSessionStoreOptions,
) => DynamoDBSessionStore {
  if (typeof session?.Store !== 'function') {
    throw new Error(
      'expressSessionStore(session) needs express-session itself: `import session from "express-session"`, then expressSessionStore(session).',
    )
  }
  return class DynamoDBSessionStore extends session.Store {
    readonly sessions: Store
    readonly ttl: number
    readonly touchAfter: number | undefined
    readonly userField: string
    readonly legacy: LegacySessions | undefined
    /** The moves under way in this process, by store key. */
    readonly #moves = new Map<string, Promise<SessionRecord | undefined>>()

    constructor(options: ExpressSessionStoreOptions) {
      super()
      const valid = validated(options)
      this.sessions = valid.store
      this.ttl = valid.ttl
      this.touchAfter = valid.touchAfter
      this.userField = valid.userField
      this.legacy = valid.legacy
    }

    get(sid: string, callback: (error: unknown, session?: ExpressSessionData | null) => void): void {
      settle(this.#get(sid), callback)
    }

    set(sid: string, session: ExpressSessionData, callback?: (error?: unknown) => void): void {
      settle(this.#set(sid, session), callback)
    }

    override touch(sid: string, session: ExpressSessionData, callback?: (error?: unknown) => void): void {
      settle(this.#touch(sid, session), callback)
    }

    destroy(sid: string, callback?: (error?: unknown) => void): void {
      settle(
        hashSessionId(sid).then((key) => this.sessions.delete(key)),
        callback,
      )
    }

    override all(callback: (error: unknown) => void): void {
      callback(
        new Error(
          'store.all() is not supported: the table keeps only SHA-256 hashes of session ids, so there are no ids to list. ' +
            "Use listUserSessions(store.sessions, userId) for one user's sessions.",
        ),
      )
    }

    override length(callback: (error: unknown) => void): void {
      callback(
        new Error(
          'store.length() is not supported: counting live sessions would Scan the whole table. ' +
            "`npx dynamodb-session check-table` reports DynamoDB's item count (updated about every six hours).",
        ),
      )
    }

    override clear(callback?: (error?: unknown) => void): void {
      const error = new Error(
        'store.clear() is not supported: it would Scan and delete the whole table, one item at a time. ' +
          'Use deleteTable() and createTable(), or let collectGarbage() remove expired sessions.',
      )
      if (callback) callback(error)
      else throw error
    }

    override createSession(req: Parameters<ExpressStore['createSession']>[0], data: ExpressSessionData) {
      const read = loaded.get(data)
      const created = super.createSession(req, data)
      if (read) loaded.set(created, read)
      return created
    }

    async #get(sid: string): Promise<ExpressSessionData | null> {
      const key = await hashSessionId(sid)
      const record = (await this.sessions.load(key)) ?? (await this.#moveOnce(sid, key))
      if (!record) return null
      const data = toExpress(record)
      if (data) loaded.set(data, loadedOf(record))
      return data ?? null
    }

    async #set(sid: string, session: ExpressSessionData): Promise<void> {
      const now = nowInSeconds()
      const data = toStored(session)
      const expiresAt = this.#expiryOf(session, now)
      const userId = userOf(data, this.userField)
      let read = loaded.get(session)
      if (!read) {
        const key = await hashSessionId(sid)
        const record = { key, data, createdAt: now, updatedAt: now, expiresAt, userId }
        if (await this.sessions.create(record)) return remember(session, record)
        // The id is taken: a save() of a session this request did not load. Write over what is stored.
        const stored = await this.sessions.load(key)
        if (!stored) return // expired or destroyed meanwhile: it stays so
        read = loadedOf(stored)
      }
      const changed = changedKeys(read.json, data)
      const userChanged = userId !== read.userId
      if (changed.length === 0 && !userChanged) return this.#touch(sid, session)
      const record: SessionRecord = {
        key: read.key,
        data,
        createdAt: read.createdAt,
        updatedAt: now,
        expiresAt,
        userId,
        version: read.version,
      }
      // False: the session was destroyed meanwhile (logged out, regenerated); it stays destroyed.
      if (await this.sessions.update(record, changed, { userChanged })) {
        remember(session, { ...record, version: (read.version ?? 0) + 1 })
      }
    }

    async #touch(sid: string, session: ExpressSessionData): Promise<void> {
      const now = nowInSeconds()
      const expiresAt = this.#expiryOf(session, now)
      const read = loaded.get(session)
      if (read && expiresAt - read.expiresAt < this.#touchAfterOf(session)) return
      const key = read?.key ?? (await hashSessionId(sid))
      if (await this.sessions.touch({ key, updatedAt: now, expiresAt })) {
        if (read) read.expiresAt = expiresAt
      }
    }

    /** The cookie's expiry, or `ttl` from now for a cookie without one. */
    #expiryOf(session: ExpressSessionData, now: number): number {
      const expires = session.cookie?.expires
      const at = expires ? new Date(expires).getTime() : Number.NaN
      return Number.isFinite(at) ? Math.ceil(at / 1000) : now + this.ttl
    }

    #touchAfterOf(session: ExpressSessionData): number {
      if (this.touchAfter !== undefined) return this.touchAfter
      const maxAge = session.cookie?.originalMaxAge
      const lifetime = typeof maxAge === 'number' && maxAge > 0 ? maxAge / 1000 : this.ttl
      return Math.min(MAX_TOUCH_AFTER, Math.floor(lifetime / 10))
    }

    /**
     * Requests of one session that come together in this process (a page's first requests after
     * the switch) share one move, so the old item is read once even then.
     */
    #moveOnce(sid: string, key: string): Promise<SessionRecord | undefined> {
      if (!this.legacy) return Promise.resolve(undefined)
      const pending = this.#moves.get(key)
      if (pending) return pending
      const move = this.#moveLegacy(this.legacy, sid, key).finally(() => this.#moves.delete(key))
      this.#moves.set(key, move)
      return move
    }

    /**
     * A session still in the connect-dynamodb table moves here: read once, claimed (removed from
     * the old table), then written in this layout. Only the request that claimed it writes it.
     */
    async #moveLegacy(legacy: LegacySessions, sid: string, key: string): Promise<SessionRecord | undefined> {
      const old = await legacy.find(sid)
      if (!old) return undefined
      // Claimed by another process a moment ago: it is writing the session here.
      if (!(await legacy.claim(sid))) return this.#waitForMove(key)
      const now = nowInSeconds()
      const data = toStored(old.session)
      const record: SessionRecord = {
        key,
        data,
        createdAt: now,
        updatedAt: now,
        expiresAt: old.expiresAt ?? now + this.ttl,
        userId: userOf(data, this.userField),
      }
      try {
        if (await this.sessions.create(record)) return record
        return await this.sessions.load(key) // already written in this layout under that id
      } catch (error) {
        // Put it back, so the user keeps the session once DynamoDB answers again.
        await legacy.restore(sid, old).catch(() => {})
        throw error
      }
    }

    /** Another request claimed the old session a moment ago and is writing it here. */
    async #waitForMove(key: string): Promise<SessionRecord | undefined> {
      for (let attempt = 1; attempt <= MOVE_WAIT_ATTEMPTS; attempt++) {
        const record = await this.sessions.load(key)
        if (record || attempt === MOVE_WAIT_ATTEMPTS) return record
        await new Promise((resolve) => setTimeout(resolve, MOVE_WAIT_MS))
      }
      return undefined
    }
  }
}

/** The options, checked once when the store is made. */
function validated(options: ExpressSessionStoreOptions) {
  const store = options?.store
  if (!store || !['load', 'create', 'update', 'touch', 'delete'].every((name) => hasMethod(store, name))) {
    throw new Error(
      'The express-session store needs the "store" option: a DynamoDBStore, e.g. { store: new DynamoDBStore({ tableName: "sessions" }) }.',
    )
  }
  const seconds = (name: 'ttl' | 'touchAfter', value: unknown, min: number) => {
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= min)) {
      throw new Error(
        `The express-session store option "${name}" must be a whole number of seconds, at least ${min}, not ${String(value)}.`,
      )
    }
    return value as number | undefined
  }
  const userField = options.userField ?? 'userId'
  if (typeof userField !== 'string' || userField === '' || userField === 'cookie') {
    throw new Error(
      'The express-session store option "userField" must name a session field (not "cookie"), e.g. "userId".',
    )
  }
  const legacy = options.legacy
  if (legacy !== undefined && !['find', 'claim', 'restore'].every((name) => hasMethod(legacy, name))) {
    throw new Error(
      'The express-session store option "legacy" must be a ConnectDynamoDBTable: legacy: new ConnectDynamoDBTable({ tableName: "sessions" }).',
    )
  }
  return {
    store,
    ttl: seconds('ttl', options.ttl, 1) ?? ONE_DAY,
    touchAfter: seconds('touchAfter', options.touchAfter, 0),
    userField,
    legacy,
  }
}

function hasMethod(object: object, name: string): boolean {
  return typeof (object as Record<string, unknown>)[name] === 'function'
}

/** Calls express-session's callback with the outcome; without one, a failure stays an unhandled rejection. */
function settle<T>(work: Promise<T>, callback: ((error: unknown, value?: T) => void) | undefined): void {
  if (callback) work.then((value) => callback(null, value), callback)
  else void work
}

/**
 * The session as stored: its fields as JSON would write them, the cookie without `expires`,
 * which is the item's expiry already (and would otherwise make every save rewrite the cookie).
 */
function toStored(session: object): Record<string, unknown> {
  const data = JSON.parse(JSON.stringify(session)) as Record<string, unknown>
  if (isObject(data.cookie)) delete data.cookie.expires
  return data
}

/** The stored session as express-session reads it, its cookie's `expires` the item's expiry. */
function toExpress(record: SessionRecord): ExpressSessionData | undefined {
  const cookie = record.data.cookie
  if (!isObject(cookie)) return undefined // not written by this store
  const expires = cookie.originalMaxAge == null ? null : new Date(record.expiresAt * 1000).toISOString()
  return { ...record.data, cookie: { ...cookie, expires } } as unknown as ExpressSessionData
}

function loadedOf(record: SessionRecord): Loaded {
  const json = new Map(Object.entries(record.data).map(([key, value]) => [key, JSON.stringify(value)]))
  return {
    key: record.key,
    json,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    userId: record.userId,
    version: record.version,
  }
}

/** After a write, the session's next save diffs against what was written. */
function remember(session: object, record: SessionRecord): void {
  loaded.set(session, loadedOf(record))
}

/** The keys whose JSON differs from what was read, removed ones included. */
function changedKeys(read: Map<string, string>, data: Record<string, unknown>): string[] {
  const changed = Object.keys(data).filter((key) => read.get(key) !== JSON.stringify(data[key]))
  for (const key of read.keys()) if (!Object.hasOwn(data, key)) changed.push(key)
  return changed
}

function userOf(data: Record<string, unknown>, field: string): string | undefined {
  const value = data[field]
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return typeof value === 'string' && value !== '' ? value : undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
