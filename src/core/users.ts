import type { Store, UserSession } from '../store/store.ts'
import { hashSessionId } from './crypto.ts'
import { type EventHandler, EventRecorder } from './events.ts'
import { ownIds, Session } from './session.ts'
import { storeCall } from './store-call.ts'

/**
 * The live sessions bound to a user with `session.setUser()`: when each was created, last
 * active and will expire, and its store key (the SHA-256 of its id, never the cookie id).
 *
 * @example
 * const devices = await listUserSessions(store, 'user-42')
 */
export async function listUserSessions(store: Store, userId: string): Promise<UserSession[]> {
  return findByUser(store, userId, undefined)
}

/** Deletes in flight at once: a user with hundreds of sessions takes tens of round trips, not hundreds. */
const PARALLEL_DELETES = 16

export interface DestroyUserSessionsOptions {
  /**
   * Keep this session: "log out of all other devices". Pass the request's session itself, so that
   * one that regenerate() is moving to a new id (a password change) keeps its old item until the
   * move is saved.
   */
  except?: { readonly id: string }
  /**
   * Milliseconds to wait before looking a second time. The user index is eventually consistent,
   * so a session created a moment ago may be missing from the first look.
   * @default 1000
   */
  settleMs?: number
  /**
   * Told, once done, how many sessions were ended and what it cost (a `loggedOutEverywhere`
   * event), or what failed (`storeError`): the middleware's `onEvent`, for one audit trail.
   */
  onEvent?: EventHandler
}

/**
 * Ends every live session bound to a user, or all but `except`; returns how many it ended.
 * A request of an ended session still in flight cannot bring it back: writes need the item.
 *
 * @example
 * await destroyUserSessions(store, 'user-42', { except: c.get('session') })
 */
export async function destroyUserSessions(
  store: Store,
  userId: string,
  { except, settleMs = 1000, onEvent }: DestroyUserSessionsOptions = {},
): Promise<number> {
  const events = onEvent && new EventRecorder(onEvent, undefined)
  if (events) events.readUser = userId
  const keepIds = except instanceof Session ? await ownIds(except) : except ? [except.id] : []
  const keep = new Set(await Promise.all(keepIds.map(hashSessionId)))
  const ended = new Set<string>()
  const end = (key: string) => storeCall(events, 'delete', key, (meter) => store.delete(key, { meter }))
  for (const look of [1, 2]) {
    const keys = (await findByUser(store, userId, events)).map(({ key }) => key)
    const toEnd = keys.filter((key) => !keep.has(key) && !ended.has(key))
    for (let first = 0; first < toEnd.length; first += PARALLEL_DELETES) {
      const batch = toEnd.slice(first, first + PARALLEL_DELETES)
      await Promise.all(batch.map(end))
      for (const key of batch) ended.add(key)
    }
    if (look === 1 && settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs))
  }
  events?.emit('loggedOutEverywhere', { key: undefined, ended: ended.size })
  return ended.size
}

function findByUser(store: Store, userId: string, events: EventRecorder | undefined): Promise<UserSession[]> {
  const { findByUser } = store
  if (!findByUser) {
    throw new Error('This store cannot find sessions by user: it has no findByUser() method.')
  }
  if (typeof userId !== 'string' || userId === '') throw new Error('A user id must be a non-empty string.')
  return storeCall(events, 'findByUser', undefined, (meter) => findByUser.call(store, userId, { meter }))
}
