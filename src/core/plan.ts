import type { SessionRecord } from '../store/store.ts'
import { assertJson, changedKeys } from './changes.ts'
import { cookieLifetime, EXPIRY_KEY, expiresAt, storedExpiry, touchAfter } from './expiry.ts'
import type { ExpiryPolicy } from './options.ts'
import type { SessionData, SessionState } from './session.ts'

// Deciding what a request must write, apart from writing it: a pure function of what was loaded,
// what the handler left, the options and the clock. `applyPlan` (save.ts) carries the plan out.

/** What the response's cookie needs once the plan is carried out: a fresh one, an expired one, or none. */
export type CookieChange = 'set' | 'expire' | undefined

/** One conditional write to the stored session; the store may refuse it. */
export type Write =
  /** The session was left empty: delete it, unless another request wrote to it since it was read. */
  | { kind: 'delete'; ifVersion: number }
  /** Write `keys` (values freshly encoded, other keys as stored); with `ifUnchanged`, only if no update came since. */
  | { kind: 'update'; keys: string[]; ifUnchanged: boolean }
  /** Extend the idle expiry of an unchanged session. */
  | { kind: 'touch' }

/**
 * A fresh cookie ('set') lasts until `cookieLifetime`: a time (epoch seconds) for a session with
 * its own expiry, 'browser' for a browser-session cookie, undefined for the cookie options' own.
 */
export type SavePlan = {
  cookieLifetime?: number | 'browser' | undefined
} /** No write; the cookie may still need re-signing under the newest secret. */ & (
  | { kind: 'nothing'; cookie: CookieChange }
  /**
   * Write to the stored session: the first write in `writes` that the store accepts earns its
   * cookie; when every one is refused the session was ended meanwhile, and the cookie is left to
   * the request that ended it.
   */
  | {
      kind: 'write'
      record: SessionRecord
      userChanged: boolean
      writes: { write: Write; cookie: CookieChange }[]
    }
  /**
   * Store a session not stored yet (new, or moved to a new id by regenerate()). The old item of a
   * moved session is deleted once the new one is written, and only while it is live.
   */
  | { kind: 'create'; record: Omit<SessionRecord, 'key'>; movedFromId: string | undefined }
  /** Nothing to store: delete the moved session's old item, if any, and send `cookie`. */
  | { kind: 'end'; movedFromId: string | undefined; cookie: CookieChange }
)

export interface PlanContext {
  policy: ExpiryPolicy
  /** The cookie options make a persistent cookie, renewed whenever the expiry slides. */
  persistentCookie: boolean
  now: number
}

/** Decides, once, after the handler, what the request's session needs written. */
export function planSave(state: SessionState, { policy, persistentCookie, now }: PlanContext): SavePlan {
  const loaded = state.loaded
  // Untouched, or loading failed open: no writes.
  if (!loaded || state.readOnly) return { kind: 'nothing', cookie: undefined }
  const data: SessionData = Object.fromEntries(loaded.values)
  const { stored, userId } = loaded
  const expiry = storedExpiry(loaded.values.get(EXPIRY_KEY))
  const userKeys = loaded.values.size - (loaded.values.has(EXPIRY_KEY) ? 1 : 0)
  const empty = userKeys === 0 && userId === undefined
  const movedFromId = state.movedFrom?.id

  if (!stored) {
    if (empty) {
      const ended = state.destroyed || state.hadBadCookie || state.hadStaleCookie || movedFromId !== undefined
      return { kind: 'end', movedFromId, cookie: ended ? 'expire' : undefined }
    }
    assertJson(data)
    const createdAt = state.movedFrom?.createdAt ?? now
    const ends = expiresAt(policy, createdAt, now, expiry)
    const record = { data, createdAt, updatedAt: now, expiresAt: ends, userId }
    return { kind: 'create', record, movedFromId, cookieLifetime: cookieLifetime(expiry, ends) }
  }

  const { record } = stored
  const changed = changedKeys(stored.json, data)
  const userChanged = userId !== record.userId
  const unchanged = changed.length === 0 && !userChanged
  // keepAlive(false): the request neither extends the session nor renews its cookie.
  const { keepAlive } = state
  const resign: CookieChange = state.signedWithOlderKey ? 'set' : undefined
  // Reads cost no writes: an unchanged session's expiry slides at most once per touchAfter.
  if (unchanged && (!keepAlive || now - record.updatedAt < touchAfter(policy, expiry))) {
    const ends = expiresAt(policy, record.createdAt, record.updatedAt, expiry)
    return {
      kind: 'nothing',
      cookie: keepAlive ? resign : undefined,
      cookieLifetime: cookieLifetime(expiry, ends),
    }
  }

  const persistent = expiry === undefined ? persistentCookie : expiry !== 'browser'
  // After a write the cookie is renewed when it is persistent (its expiry slid), when the session
  // chose another expiry (a remembered cookie becomes a browser-session one), or to re-sign it.
  const renew = persistent || changed.includes(EXPIRY_KEY)
  const written: CookieChange = !keepAlive ? undefined : renew ? 'set' : resign
  const writes: { write: Write; cookie: CookieChange }[] = []
  // Left empty: deleted, unless another request wrote to it since it was read; then only this
  // request's removals are written by the writes below, and that request's change stays.
  if (!unchanged && empty)
    writes.push({ write: { kind: 'delete', ifVersion: record.version ?? 0 }, cookie: 'expire' })
  // Stale keys (the other form, or an older secret's seal) are rewritten along with the changes,
  // or in place of a touch, so every value is sealed by the newest secret within touchAfter; but
  // only if no other request wrote since the read, lest their old values undo its change.
  const stale = stored.staleKeys.filter((key) => !changed.includes(key))
  if (stale.length > 0) {
    writes.push({
      write: { kind: 'update', keys: [...changed, ...stale], ifUnchanged: true },
      cookie: written,
    })
  }
  writes.push({
    write: unchanged ? { kind: 'touch' } : { kind: 'update', keys: changed, ifUnchanged: false },
    cookie: written,
  })
  const updatedAt = keepAlive ? now : record.updatedAt
  const ends = expiresAt(policy, record.createdAt, updatedAt, expiry)
  const next = { ...record, data, updatedAt, expiresAt: ends, userId }
  return { kind: 'write', record: next, userChanged, writes, cookieLifetime: cookieLifetime(expiry, ends) }
}

/**
 * When the session will expire if nothing else happens, once this request is saved; undefined
 * when it will not be stored at all.
 */
export function plannedExpiry(state: SessionState, context: PlanContext): number | undefined {
  const plan = planSave(state, context)
  if (plan.kind === 'create' || plan.kind === 'write') return plan.record.expiresAt
  const stored = state.loaded?.stored
  if (plan.kind === 'end' || !stored || !state.loaded) return undefined
  const { createdAt, updatedAt } = stored.record
  return expiresAt(context.policy, createdAt, updatedAt, storedExpiry(state.loaded.values.get(EXPIRY_KEY)))
}

/** A write of one key at once (`session.update()`): the record to write and the cookie it earns. */
export interface KeyWritePlan {
  /** The stored record with new times; its data is filled in by the writer. */
  record: SessionRecord
  cookie: CookieChange
  cookieLifetime: number | 'browser' | undefined
}

/**
 * The times and cookie of a one-key write to the stored session, as the end-of-request write
 * would set them: the idle expiry slides (unless keepAlive(false)), and a persistent cookie is renewed.
 */
export function planKeyWrite(
  state: SessionState,
  { policy, persistentCookie, now }: PlanContext,
): KeyWritePlan {
  const stored = state.loaded?.stored
  if (!stored) throw new Error('planKeyWrite needs a stored session.')
  const { record } = stored
  // The expiry as stored: an unsaved setExpiry() waits for its own write.
  const expiry = storedExpiry(record.data[EXPIRY_KEY])
  const updatedAt = state.keepAlive ? now : record.updatedAt
  const ends = expiresAt(policy, record.createdAt, updatedAt, expiry)
  const persistent = expiry === undefined ? persistentCookie : expiry !== 'browser'
  return {
    record: { ...record, updatedAt, expiresAt: ends },
    cookie: state.keepAlive && persistent ? 'set' : undefined,
    cookieLifetime: cookieLifetime(expiry, ends),
  }
}
