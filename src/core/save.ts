import { SessionError } from '../errors.ts'
import { type DeleteOptions, type SessionRecord, type Store, setOwn, withChanges } from '../store/store.ts'
import { snapshot } from './changes.ts'
import { createSessionId, createWriteId } from './crypto.ts'
import type { SessionEventType } from './events.ts'
import {
  type CookieChange,
  type PlanContext,
  planKeyWrite,
  planSave,
  type SavePlan,
  type Write,
} from './plan.ts'
import type { Sealer } from './sealing.ts'
import type { SessionData, SessionState, StoredSession } from './session.ts'
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
  const { cookie } = await applyPlan(ctx, state, plan)
  await deleteObsolete(ctx, state)
  return cookie
}

/** Deletes the items that destroy() left behind; once done, they are forgotten. */
async function deleteObsolete(ctx: SaveContext, state: SessionState): Promise<void> {
  for (const id of state.obsoleteIds) await deleteEnded(ctx, state, id)
  state.obsoleteIds = []
}

/** Deletes the item of an ended session, whatever state it is in. */
async function deleteEnded(ctx: SaveContext, state: SessionState, id: string): Promise<void> {
  const key = await ctx.storeKey(id)
  await tryDelete(ctx, state, key)
  report(state, 'destroyed', key)
}

/**
 * What carrying out a plan did: the cookie it earned, and the write the store accepted with the
 * data as stored (`encoded`), if any; save() takes them as the request's new baseline.
 */
interface Outcome {
  cookie: CookieChange
  written?: { write: Write | { kind: 'create' }; encoded: SessionData } | undefined
}

async function applyPlan(ctx: SaveContext, state: SessionState, plan: SavePlan): Promise<Outcome> {
  switch (plan.kind) {
    case 'nothing':
      return { cookie: plan.cookie }
    case 'end':
      if (plan.movedFromId !== undefined) await deleteEnded(ctx, state, plan.movedFromId)
      return { cookie: plan.cookie }
    case 'write':
      for (const { write, cookie } of plan.writes) {
        const encoded = await tryWrite(ctx, state, plan.record, plan.userChanged, write)
        if (!encoded) continue
        report(state, WRITE_EVENTS[write.kind], plan.record.key)
        return { cookie, written: { write, encoded } }
      }
      // Every write refused: the session ended meanwhile, and stays ended. A touch lost nothing;
      // a change is reported, so the app can tell its user rather than answer as if it were saved.
      if (plan.writes.some(({ write }) => write.kind !== 'touch')) throw sessionEnded(state)
      report(state, 'staleCookie', plan.record.key)
      return { cookie: undefined }
    case 'create':
      return create(ctx, state, plan.record, plan.movedFromId)
  }
}

/** The data as written when the store accepted the write; false when its condition refused it. */
async function tryWrite(
  ctx: SaveContext,
  state: SessionState,
  record: SessionRecord,
  userChanged: boolean,
  write: Write,
): Promise<SessionData | false> {
  const { store } = ctx
  const { events } = state
  const stored = state.loaded?.stored
  switch (write.kind) {
    case 'delete':
      return (await tryDelete(ctx, state, record.key, { onlyIf: { version: write.ifVersion } })) && {}
    case 'touch':
      return (
        (await storeCall(events, 'touch', record.key, (meter) => store.touch(record, { meter }))) &&
        (stored?.encoded ?? {})
      )
    case 'update': {
      const data = await encode(ctx.sealer, record.data, write.keys, stored?.encoded)
      const update = { ...record, data, writeId: createWriteId() }
      const options = { userChanged, ifUnchanged: write.ifUnchanged }
      const updated = await storeCall(events, 'update', record.key, (meter) =>
        store.update(update, write.keys, { ...options, meter }),
      )
      return updated && data
    }
  }
}

/**
 * `session.save()`: writes what the request changed so far, as the end-of-request commit would,
 * then takes what was written as the request's new baseline, so the commit writes only what
 * changes after it. The cookie earned waits in `state.savedCookie` for the response.
 */
export async function saveNow(ctx: SaveContext, state: SessionState, context: PlanContext): Promise<void> {
  const plan = planSave(state, context)
  let outcome: Outcome
  try {
    outcome = await applyPlan(ctx, state, plan)
  } catch (error) {
    if (!(error instanceof SessionError && error.code === 'SESSION_ENDED')) throw error
    // Another request ended the session meanwhile: it stays ended, as with update().
    endView(state)
    state.savedCookie = { change: 'expire', lifetime: undefined }
    return
  }
  await deleteObsolete(ctx, state)
  if (outcome.cookie) state.savedCookie = { change: outcome.cookie, lifetime: plan.cookieLifetime }
  await rebase(ctx, state, plan, outcome)
}

/** After save(): the stored session is what was just written (or gone, when it was deleted). */
async function rebase(
  ctx: SaveContext,
  state: SessionState,
  plan: SavePlan,
  outcome: Outcome,
): Promise<void> {
  const loaded = state.loaded
  if (!loaded || plan.kind === 'nothing') return
  if (plan.kind === 'end') {
    state.movedFrom = undefined
    return
  }
  const { written } = outcome
  // Only a refused touch comes back with nothing written: it changed nothing to take as the baseline.
  if (!written) return
  const { write, encoded } = written
  if (write.kind === 'delete') {
    loaded.stored = undefined
    state.storedId = undefined
    state.id = undefined
    return
  }
  const data = { ...plan.record.data }
  const before = loaded.stored
  const version = (before?.record.version ?? 0) + (write.kind === 'update' ? 1 : 0)
  const key = plan.kind === 'create' ? await ctx.storeKey(state.id as string) : plan.record.key
  const staleKeys =
    write.kind === 'update' ? (before?.staleKeys ?? []).filter((k) => !write.keys.includes(k)) : []
  loaded.stored = {
    record: { ...plan.record, key, data, version: plan.kind === 'create' ? undefined : version },
    json: snapshot(data),
    encoded,
    staleKeys: write.kind === 'touch' ? (before?.staleKeys ?? []) : staleKeys,
  }
  state.storedId = state.id
  state.movedFrom = undefined
}

/** The session was ended by another request: this request's view is an empty, unstored session. */
function endView(state: SessionState): void {
  state.loaded = { stored: undefined, values: new Map(), userId: undefined }
  state.storedId = undefined
  state.id = undefined
  state.movedFrom = undefined
}

/**
 * `session.update()`'s write: `value` under `key` (undefined: removed) at once, on condition that
 * the store still holds the value this request read there. On success the key's new value is the
 * request's baseline; false when another request changed the key meanwhile.
 */
export async function writeKey(
  ctx: SaveContext,
  state: SessionState,
  key: string,
  value: unknown,
  context: PlanContext,
): Promise<boolean> {
  const stored = state.loaded?.stored as StoredSession
  const planned = planKeyWrite(state, context)
  const fresh: SessionData = {}
  if (value !== undefined) setOwn(fresh, key, await ctx.sealer.encode(value))
  const encoded = withChanges(stored.encoded, fresh, [key])
  const expected = Object.hasOwn(stored.encoded, key) ? stored.encoded[key] : undefined
  const record = { ...planned.record, data: encoded, writeId: createWriteId() }
  const ifValue = { key, value: expected }
  const updated = await storeCall(state.events, 'update', record.key, (meter) =>
    ctx.store.update(record, [key], { ifValue, meter }),
  )
  if (!updated) return false
  report(state, 'updated', record.key)
  const plain: SessionData = {}
  if (value !== undefined) setOwn(plain, key, value)
  const data = withChanges(stored.record.data, plain, [key])
  const json = new Map(stored.json)
  if (value === undefined) json.delete(key)
  else json.set(key, JSON.stringify(value))
  stored.record = { ...planned.record, data, version: (stored.record.version ?? 0) + 1 }
  stored.encoded = encoded
  stored.json = json
  stored.staleKeys = stored.staleKeys.filter((stale) => stale !== key)
  const values = state.loaded?.values
  if (value === undefined) values?.delete(key)
  else values?.set(key, structuredClone(value))
  if (planned.cookie) state.savedCookie = { change: planned.cookie, lifetime: planned.cookieLifetime }
  return true
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
): Promise<Outcome> {
  const data = await encode(ctx.sealer, template.data, Object.keys(template.data))
  const key = await createWithFreshId(ctx, state, { ...template, data })
  const written = { cookie: 'set' as const, written: { write: { kind: 'create' as const }, encoded: data } }
  if (movedFromId === undefined) {
    report(state, 'created', key)
    return written
  }
  const previousKey = await ctx.storeKey(movedFromId)
  let moved: boolean
  try {
    moved = await tryDelete(ctx, state, previousKey, { onlyIf: 'live', writeId: createWriteId() })
  } catch (error) {
    // The old item's fate is unknown: the new one goes too, so one device never shows as two.
    await tryDelete(ctx, state, key).catch(() => {})
    throw error
  }
  if (moved) {
    report(state, 'regenerated', key, previousKey)
    return written
  }
  await tryDelete(ctx, state, key)
  throw sessionEnded(state)
}

/** The error of a write refused because another request ended the session, told to onEvent. */
function sessionEnded(state: SessionState): SessionError {
  const error = new SessionError(
    'SESSION_ENDED',
    'The session ended while this request was in flight (a logout, destroy() or a request that emptied it); ' +
      "this request's changes were not saved, and it sends no session cookie.",
  )
  state.events?.emit('storeError', { error })
  return error
}

/** The event of each kind of write, once the store accepted it. */
const WRITE_EVENTS = {
  update: 'updated',
  touch: 'touched',
  delete: 'destroyed',
} as const satisfies Record<Write['kind'], SessionEventType>

/** Tells onEvent, if given, of a write the store accepted. */
function report(state: SessionState, type: SessionEventType, key: string, previousKey?: string): void {
  state.events?.emit(type, { key, previousKey, userId: state.loaded?.userId })
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
    if (await storeCall(state.events, 'create', key, (meter) => ctx.store.create(created, { meter })))
      return key
    state.id = createSessionId()
  }
  throw new SessionError('SESSION_ID_COLLISION', `No free session id after ${MAX_CREATE_ATTEMPTS} attempts.`)
}

function tryDelete(
  ctx: SaveContext,
  state: SessionState,
  key: string,
  options: DeleteOptions = {},
): Promise<boolean> {
  return storeCall(state.events, 'delete', key, (meter) => ctx.store.delete(key, { ...options, meter }))
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
