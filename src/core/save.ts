import { SessionError } from '../errors.ts'
import { type SessionRecord, type Store, setOwn, withChanges } from '../store/store.ts'
import { createSessionId, createWriteId } from './crypto.ts'
import type { CookieChange, SavePlan, Write } from './plan.ts'
import type { Sealer } from './sealing.ts'
import type { SessionData, SessionState } from './session.ts'
import { storeCall } from './store-call.ts'

// Carrying out a plan from plan.ts against the store: the writes, in order, and what each
// outcome means for the cookie.

/** How many fresh ids a create tries before giving up; a collision of 256-bit ids is not expected. */
const MAX_CREATE_ATTEMPTS = 3

export interface SaveContext {
  store: Store
  sealer: Sealer
  /** The store key (SHA-256) of a session id. */
  storeKey(id: string): Promise<string>
}

/**
 * Writes the current session as planned, then deletes the items that destroy() left behind;
 * returns what the cookie needs.
 */
export async function applySave(
  ctx: SaveContext,
  state: SessionState,
  plan: SavePlan,
): Promise<CookieChange> {
  const change = await applyPlan(ctx, state, plan)
  for (const id of state.obsoleteIds) await tryDelete(ctx, await ctx.storeKey(id))
  return change
}

async function applyPlan(ctx: SaveContext, state: SessionState, plan: SavePlan): Promise<CookieChange> {
  switch (plan.kind) {
    case 'nothing':
      return plan.cookie
    case 'end':
      if (plan.movedFromId !== undefined) await tryDelete(ctx, await ctx.storeKey(plan.movedFromId))
      return plan.cookie
    case 'write':
      for (const { write, cookie } of plan.writes) {
        if (await tryWrite(ctx, state, plan.record, plan.userChanged, write)) return cookie
      }
      // Every write refused: the session ended meanwhile, and stays ended. A touch lost nothing;
      // a change is reported, so the app can tell its user rather than answer as if it were saved.
      if (plan.writes.some(({ write }) => write.kind !== 'touch')) throw sessionEnded()
      return undefined
    case 'create':
      return create(ctx, state, plan.record, plan.movedFromId)
  }
}

/** True when the store accepted the write; false when its condition refused it. */
async function tryWrite(
  ctx: SaveContext,
  state: SessionState,
  record: SessionRecord,
  userChanged: boolean,
  write: Write,
): Promise<boolean> {
  const { store } = ctx
  switch (write.kind) {
    case 'delete':
      return tryDelete(ctx, record.key, { version: write.ifVersion })
    case 'touch':
      return storeCall('touch', () => store.touch(record))
    case 'update': {
      const stored = state.loaded?.stored
      const data = await encode(ctx.sealer, record.data, write.keys, stored?.encoded)
      const update = { ...record, data, writeId: createWriteId() }
      const options = { userChanged, ifUnchanged: write.ifUnchanged }
      return storeCall('update', () => store.update(update, write.keys, options))
    }
  }
}

/**
 * Writes the new item under the session's id, or a fresh one when that is taken. regenerate():
 * the new item is written first, so a failure never loses the session, and the old one is
 * deleted only while it is live. When another request ended it meanwhile (a logout), the
 * session stays ended: the new item goes too, and the cookie is left to that request.
 */
async function create(
  ctx: SaveContext,
  state: SessionState,
  template: Omit<SessionRecord, 'key'>,
  movedFromId: string | undefined,
): Promise<CookieChange> {
  const data = await encode(ctx.sealer, template.data, Object.keys(template.data))
  const key = await createWithFreshId(ctx, state, { ...template, data })
  if (movedFromId === undefined) return 'set'
  let moved: boolean
  try {
    moved = await tryDelete(ctx, await ctx.storeKey(movedFromId), 'live', createWriteId())
  } catch (error) {
    // The old item's fate is unknown: the new one goes too, so one device never shows as two.
    await tryDelete(ctx, key).catch(() => {})
    throw error
  }
  if (moved) return 'set'
  await tryDelete(ctx, key)
  throw sessionEnded()
}

function sessionEnded(): SessionError {
  return new SessionError(
    'SESSION_ENDED',
    'The session ended while this request was in flight (a logout, destroy() or a request that emptied it); ' +
      "this request's changes were not saved, and it sends no session cookie.",
  )
}

/** Creates the record under `state.id` (made now if need be), retrying with fresh ids; returns its key. */
async function createWithFreshId(
  ctx: SaveContext,
  state: SessionState,
  record: Omit<SessionRecord, 'key'>,
): Promise<string> {
  for (let attempt = 1; attempt <= MAX_CREATE_ATTEMPTS; attempt++) {
    state.id ??= createSessionId()
    const key = await ctx.storeKey(state.id)
    const created = { ...record, key, writeId: createWriteId() }
    if (await storeCall('create', () => ctx.store.create(created))) return key
    state.id = createSessionId()
  }
  throw new SessionError('SESSION_ID_COLLISION', `No free session id after ${MAX_CREATE_ATTEMPTS} attempts.`)
}

function tryDelete(
  ctx: SaveContext,
  key: string,
  onlyIf?: 'live' | { version: number },
  writeId?: string,
): Promise<boolean> {
  return storeCall('delete', () => ctx.store.delete(key, onlyIf, writeId))
}

/** The stored form of `data`: `base` for the keys not listed, freshly encoded values for those listed. */
async function encode(
  sealer: Sealer,
  data: SessionData,
  keys: readonly string[],
  base: SessionData = {},
): Promise<SessionData> {
  const fresh: SessionData = {}
  for (const key of keys) if (Object.hasOwn(data, key)) setOwn(fresh, key, await sealer.encode(data[key]))
  return withChanges(base, fresh, keys)
}
