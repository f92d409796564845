import { SessionError } from '../errors.ts'
import { nowInSeconds, type Store } from '../store/store.ts'
import type { EventRecorder } from './events.ts'
import { EXPIRY_KEY, expiresAt, storedExpiry } from './expiry.ts'
import type { ErrorHandler, ExpiryPolicy } from './options.ts'
import type { Sealer } from './sealing.ts'
import type { SessionState, StoredSession } from './session.ts'
import { storeCall } from './store-call.ts'

// Reading a session from the store on its first use, and what a failed read does to the request.

export interface LoadContext {
  store: Store
  sealer: Sealer
  policy: ExpiryPolicy
  onError: ErrorHandler
  /** The store key (SHA-256) of a session id. */
  storeKey(id: string): Promise<string>
}

/** The live stored session under `key`, its values unsealed, or undefined. */
export async function loadSession(
  ctx: LoadContext,
  key: string,
  events: EventRecorder | undefined,
): Promise<StoredSession | undefined> {
  const record = await storeCall(events, 'load', key, (meter) => ctx.store.load(key, { meter }))
  const now = nowInSeconds()
  if (!record || record.expiresAt <= now) return undefined
  const { data, json, staleKeys } = await ctx.sealer.decode(record.data)
  // Expiry is recomputed with today's options and the session's own choice, so shortening
  // maxStale, maxAge or the session's expiry takes effect at once.
  const expiry = storedExpiry(data[EXPIRY_KEY])
  if (expiresAt(ctx.policy, record.createdAt, record.updatedAt, expiry) <= now) return undefined
  return { record: { ...record, data }, json, encoded: record.data, staleKeys }
}

/**
 * `loadSession` for one request: a failed load goes to onError at once, so the handler can go on
 * when onError chooses to fail open, and the request fails closed otherwise.
 */
export function loaderFor(ctx: LoadContext, request: Request, state: SessionState) {
  return async (id: string): Promise<StoredSession | undefined> => {
    const { events } = state
    const key = await ctx.storeKey(id)
    try {
      const stored = await loadSession(ctx, key, events)
      if (events) {
        events.readUser = stored?.record.userId ?? events.readUser
        events.emit(stored ? 'read' : 'staleCookie', { key })
      }
      return stored
    } catch (error) {
      if (!(error instanceof SessionError)) throw error
      if (error.code === 'SESSION_UNREADABLE') {
        // Tampered or sealed by a retired secret: reported, then treated as no session at all.
        events?.emit('storeError', { key, error })
        await ctx.onError(error, request, 'unseal')
        return undefined
      }
      const response = await ctx.onError(error, request, 'load')
      if (response === undefined) {
        state.readOnly = true
        return undefined
      }
      state.failure = { error, response }
      throw error
    }
  }
}
