import { SessionError } from '../errors.ts'
import { nowInSeconds } from '../store/store.ts'
import type { SessionCookie } from './cookie.ts'
import { createCookieChecker } from './cookie-check.ts'
import { hashSessionId, importSigningKeys, signSessionId } from './crypto.ts'
import { EventRecorder } from './events.ts'
import { type LoadContext, loaderFor } from './load.ts'
import { resolveOptions, type SessionOptions } from './options.ts'
import { type CookieChange, plannedExpiry, planSave, type SavePlan } from './plan.ts'
import { RecentMap } from './recent.ts'
import { applySave, type SaveContext, saveNow, writeKey } from './save.ts'
import { createSealer } from './sealing.ts'
import { createSessionState, Session, type SessionData, type SessionState } from './session.ts'

// src/core/ is the framework-free heart of the library: the cookie, signing and hashing, the
// session and its change tracking, the per-request decision of what to write, and the fetch
// middleware. It uses Web APIs only and imports nothing but itself, src/store/ (the Store
// contract) and src/errors.ts; it knows neither DynamoDB nor any framework. This file wires one
// middleware's parts together; a request flows open() → handler → commit().

/** How many recent sessions' store keys each middleware remembers. */
const RECENT_SESSIONS = 10_000

export interface SessionManager<Data extends SessionData> {
  /**
   * Attaches a session to the request, touching nothing of it: the cookie is read and verified
   * on the session's first use, and the store read after that.
   */
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
  const { secrets, store, policy, cookieFor, encrypt, onError, onEvent } = resolveOptions(options)
  const keys = importSigningKeys(secrets)
  const states = new WeakMap<Session<Data>, SessionState>()
  // A returning visitor sends the same cookie again and again: its check (HMAC, in
  // cookie-check.ts) and its store key (SHA-256) are remembered, so a repeat request makes no
  // WebCrypto call.
  const cookies = createCookieChecker(secrets, keys)
  const storeKeys = new RecentMap<string, string>(RECENT_SESSIONS)

  const storeKey = async (id: string): Promise<string> => {
    let key = storeKeys.get(id)
    if (key === undefined) {
      key = await hashSessionId(id)
      storeKeys.set(id, key)
    }
    return key
  }

  const sealer = createSealer(secrets, encrypt)
  const loading: LoadContext = { store, sealer, policy, onError, storeKey }
  const saving: SaveContext = { store, sealer, storeKey }

  /** What the save decision needs of this request: its cookie options, the clock. */
  const planContext = (request: Request) => ({
    policy,
    persistentCookie: cookieFor(request).persistent,
    now: nowInSeconds(),
  })

  /** The Set-Cookie value for `state`'s id, signed by the newest secret, lasting `lifetime`. */
  const signedCookie = async (
    cookie: SessionCookie,
    state: SessionState,
    lifetime: number | 'browser' | undefined,
  ): Promise<string> => {
    const [newest] = await keys
    const signed = await signSessionId(state.id as string, newest as CryptoKey)
    // The browser sends it back next: known, its check (and so session.id) needs no WebCrypto.
    cookies.remember(signed, state.id as string)
    return cookie.serialize(signed, typeof lifetime === 'number' ? lifetime - nowInSeconds() : lifetime)
  }

  return {
    async open(request) {
      const state = createSessionState()
      if (onEvent) state.events = new EventRecorder(onEvent, request)
      state.cookie = cookies.checkFor(request, state, () => cookieFor(request))
      if (!cookies.canVerifyNow) await state.cookie.verify()
      const session = new Session<Data>(state, {
        load: loaderFor(loading, request, state),
        expiresAt: () => plannedExpiry(state, planContext(request)),
        save: () => saveNow(saving, state, planContext(request)),
        writeKey: (key, value) => writeKey(saving, state, key, value, planContext(request)),
      })
      states.set(session, state)
      sessionsByRequest.set(request, session)
      return session
    },

    async commit(session, response, request) {
      const state = stateOf(session)
      // A failed load fails closed even when the handler caught the error and carried on.
      if (state.failure) return state.failure.response
      // Never used: nothing to save and no cookie to change, and nothing of the request read.
      if (!state.loaded) return response
      // A 5xx means the handler failed part way: what it changed is not saved.
      if (response.status >= 500) return response
      const cookie = cookieFor(request)
      let change: CookieChange
      let plan: SavePlan
      try {
        plan = planSave(state, planContext(request))
        // An aborted request's client never sees the cookie: nothing is saved. Asked only when
        // there is something to write, as some servers (@hono/node-server) make the signal on demand.
        if (plan.kind !== 'nothing' && clientWentAway(request)) return response
        // A read (nothing to write, nothing destroyed) needs no trip through the store calls.
        change =
          plan.kind === 'nothing' && state.obsoleteIds.length === 0
            ? plan.cookie
            : await applySave(saving, state, plan)
      } catch (error) {
        if (!(error instanceof SessionError)) throw error
        return (await onError(error, request, 'save')) ?? response
      }
      // A save() or update() during the request earned a cookie that this commit did not replace.
      const saved = change ? undefined : state.savedCookie
      change ??= saved?.change
      if (!change) return response
      const lifetime = plan.cookieLifetime ?? saved?.lifetime
      return appendSetCookie(
        response,
        change === 'set' ? await signedCookie(cookie, state, lifetime) : cookie.expire(),
      )
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
 * True when the client of `request` is gone. Deno.serve's request.signal also aborts once a
 * response is sent (its legacy behaviour), and Deno 2.9 warns on stderr once a handler reads it:
 * on Deno the signal is not read, and a request aborted mid-way saves like a finished one.
 */
function clientWentAway(request: Request): boolean {
  return !IS_DENO && request.signal.aborted
}

const IS_DENO = typeof (globalThis as { Deno?: unknown }).Deno === 'object'

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
