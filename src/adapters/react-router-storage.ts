import {
  parseCookie,
  parseSetCookie,
  type SerializeOptions,
  stringifyCookie,
  stringifySetCookie,
} from 'cookie'
import { createSession, type Session, type SessionData, type SessionStorage } from 'react-router'
import { type CookieOptions, createSessionCookie } from '../core/cookie.ts'
import { EXPIRY_KEY } from '../core/expiry.ts'
import { createSessionManager } from '../core/manager.ts'
import type { SessionOptions } from '../core/options.ts'
import { flashKey, loadedValues, type Session as StoredSession } from '../core/session.ts'
import { ConfigError, type SessionError } from '../errors.ts'

/** React Router's `createCookie` options that this storage takes besides its own. */
export interface StorageCookieOptions extends CookieOptions {
  /**
   * React Router's name for `secretKey`, so `createArcTableSessionStorage({ cookie })` options carry over.
   * Give one or the other.
   */
  secrets?: string[]
}

export interface DynamoDBSessionStorageOptions
  extends Omit<SessionOptions, 'secretKey' | 'onError' | 'touchAfter' | 'cookie'> {
  /** As in `sessionMiddleware`; may be given as `cookie.secrets` instead, as React Router does. */
  secretKey?: SessionOptions['secretKey']
  /** As in `sessionMiddleware`, plus `secrets`. @default name '__session', as React Router's storages */
  cookie?: StorageCookieOptions
}

/** The cookie name React Router's own storages use. */
const DEFAULT_COOKIE_NAME = '__session'
/** `commitSession`'s per-call options that may change the cookie; others are ignored, as React Router's cookie would. */
const PER_CALL_ATTRIBUTES = [
  'domain',
  'path',
  'maxAge',
  'expires',
  'httpOnly',
  'secure',
  'sameSite',
  'partitioned',
]

/**
 * React Router's `commitSession(session)` is given no request, so the options decided per request
 * ('auto', a cookie function, trustProxy) would silently take the plain-HTTP answer: refused.
 */
function refusePerRequestOptions(options: DynamoDBSessionStorageOptions): void {
  const cookie: unknown = options?.cookie
  const { secure, sameSite } = (options?.cookie ?? {}) as StorageCookieOptions
  const perRequest: [option: string, given: boolean, what: string][] = [
    ['cookie', typeof cookie === 'function', 'a function'],
    ['cookie.secure', secure === 'auto', "'auto'"],
    ['cookie.sameSite', sameSite === 'auto', "'auto'"],
    ['trustProxy', options?.trustProxy !== undefined, String(options?.trustProxy)],
  ]
  const refused = perRequest.find(([, given]) => given)
  if (refused === undefined) return
  const [option, , given] = refused
  throw new ConfigError(
    `createDynamoDBSessionStorage option "${option}" cannot be ${given}: React Router's commitSession() is given ` +
      'no request to decide it by. Give the cookie options for how the app is served (secure: true over HTTPS).',
    option,
    'code',
  )
}

/** What this storage keeps beside each React Router session it handed out. */
interface Origin {
  stored: StoredSession
  request: Request
  /** The signed cookie value the session came with, sent back when nothing needs a new one. */
  cookieValue: string | undefined
}

/**
 * A React Router `SessionStorage` over this library's store, signing, id hashing and expiry: a
 * drop-in for `createArcTableSessionStorage` or `createSessionStorage`. `getSession` reads the
 * item once; `commitSession` writes only the keys that changed (conditionally, so a session
 * destroyed meanwhile stays destroyed) and `destroySession` deletes it. Flash values set with
 * `session.flash` are the middleware's flash values, so both APIs can share one table.
 * Store failures reject the promise with a `SessionStoreError`.
 *
 * @example
 * const { getSession, commitSession, destroySession } = createDynamoDBSessionStorage({
 *   secretKey: process.env.SESSION_SECRET,
 *   store: new DynamoDBStore({ client: new DynamoDBClient({}), tableName: 'sessions' }),
 *   cookie: { name: '__session', sameSite: 'lax' },
 * })
 * export async function action({ request }: Route.ActionArgs) {
 *   const session = await getSession(request.headers.get('Cookie'))
 *   session.set('userId', 'u1')
 *   return redirect('/', { headers: { 'Set-Cookie': await commitSession(session) } })
 * }
 */
export function createDynamoDBSessionStorage<Data = SessionData, FlashData = Data>(
  options: DynamoDBSessionStorageOptions,
): SessionStorage<Data, FlashData> {
  const { secrets, ...cookieOptions } = options?.cookie ?? {}
  if (options?.secretKey !== undefined && secrets !== undefined) {
    throw new Error(
      'createDynamoDBSessionStorage: give the secret once, as "secretKey" or as "cookie.secrets", not both.',
    )
  }
  if (typeof (options?.cookie as { serialize?: unknown } | undefined)?.serialize === 'function') {
    throw new Error(
      'createDynamoDBSessionStorage: pass cookie options ({ name, sameSite, ... }), not a createCookie() ' +
        'object: this storage signs the cookie itself.',
    )
  }
  refusePerRequestOptions(options)
  const cookie = { ...cookieOptions, name: cookieOptions.name ?? DEFAULT_COOKIE_NAME }
  const manager = createSessionManager({
    ...options,
    secretKey: options.secretKey ?? (secrets as string[]),
    cookie,
    onError: rejectStoreFailures,
  })
  const sessionCookie = createSessionCookie(cookie)
  const origins = new WeakMap<Session<Data, FlashData>, Origin>()

  /** Opens this library's session for a cookie value, as a request carrying it would. */
  const open = async (cookieValue: string | undefined): Promise<Origin> => {
    const headers = new Headers()
    if (cookieValue !== undefined) headers.set('cookie', stringifyCookie({ [cookie.name]: cookieValue }))
    const request = new Request('http://react-router.invalid/', { headers })
    return { stored: await manager.open(request), request, cookieValue }
  }

  /** Saves `origin`'s session and returns the Set-Cookie this library chose, if any. */
  const commit = async (origin: Origin): Promise<string | undefined> => {
    const response = await manager.commit(origin.stored, new Response(null), origin.request)
    return response.headers.getSetCookie().find((line) => parseSetCookie(line).name === cookie.name)
  }

  return {
    async getSession(cookieHeader) {
      const origin = await open(cookieHeader ? parseCookie(cookieHeader)[cookie.name] : undefined)
      // The session's own expiry (session.setExpiry(), through the middleware) is the library's, not data.
      const data = Object.fromEntries(
        [...(await loadedValues(origin.stored))].filter(([key]) => key !== EXPIRY_KEY),
      )
      // An unknown or tampered cookie gives an empty session with no id, as React Router's do.
      const stored = Object.keys(data).length > 0 || (await origin.stored.getUser()) !== undefined
      const session = createSession<Data, FlashData>(data as Data, stored ? origin.stored.id : '')
      origins.set(session, origin)
      return session
    },

    async commitSession(session, options) {
      const origin = origins.get(session) ?? (await open(undefined))
      await applyChanges(origin.stored, session.data as Record<string, unknown>)
      const header = await commit(origin)
      const value = header === undefined ? origin.cookieValue : parseSetCookie(header).value
      // Committed again later, the session starts from what this commit stored.
      origins.set(session, await open(value || undefined))
      if (!value) return withOptions(header ?? sessionCookie.expire(), options, true)
      return withOptions(header ?? sessionCookie.serialize(value), options, false)
    },

    async destroySession(session, options) {
      const origin = origins.get(session)
      if (origin) {
        await origin.stored.destroy()
        await commit(origin)
        origins.set(session, await open(undefined))
      }
      return withOptions(sessionCookie.expire(), options, true)
    },
  }
}

/** Makes this library's session hold what React Router's session holds; unchanged keys stay unwritten. */
async function applyChanges(stored: StoredSession, data: Record<string, unknown>): Promise<void> {
  for (const key of (await loadedValues(stored)).keys()) {
    if (key !== EXPIRY_KEY && data[key] === undefined) await stored.delete(key)
  }
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue
    const flashed = /^__flash_(.*)__$/.exec(key)?.[1]
    if (flashed !== undefined && flashKey(flashed) === key) await stored.flash(flashed, value)
    else await stored.set(key, value)
  }
}

/** Applies `commitSession`'s or `destroySession`'s own options over the configured attributes. */
function withOptions(header: string, options: SerializeOptions | undefined, expiring: boolean): string {
  if (!options) return header
  const { name, value, ...attributes } = parseSetCookie(header)
  const overrides: Record<string, unknown> = {}
  for (const key of PER_CALL_ATTRIBUTES) {
    const override = options[key as keyof SerializeOptions]
    if (override !== undefined) overrides[key] = override
  }
  // An expiring cookie keeps its past date whatever the call asked for.
  if (expiring) {
    delete overrides.maxAge
    delete overrides.expires
  } else if (overrides.expires !== undefined && overrides.maxAge === undefined) {
    delete attributes.maxAge
  }
  return stringifySetCookie(name, value ?? '', { ...attributes, ...overrides } as SerializeOptions)
}

/**
 * React Router's storages reject on a failed read or write, so the caller's error boundary
 * answers; a session sealed under a retired secret reads as no session.
 */
function rejectStoreFailures(error: SessionError, _request: Request, phase: string): undefined {
  // An unreadable seal reads as no session; a session ended meanwhile stays ended, with no cookie.
  if (phase === 'unseal' || error.code === 'SESSION_ENDED') return undefined
  throw error
}
