import { describe, expect, it } from 'vitest'
import { SessionValueError } from '../errors.ts'
import type { SessionRecord } from '../store/store.ts'
import { snapshot } from './changes.ts'
import { type PlanContext, planSave } from './plan.ts'
import { createSessionState, type SessionData, type SessionState } from './session.ts'

const NOW = 1_000_000
const policy = { maxStale: 3600, maxAge: undefined, touchAfter: 360 }
const context: PlanContext = { policy, persistentCookie: false, now: NOW }

/** A state as a request leaves it: `stored` is what the request read, `values` what the handler left. */
function stateWith(options: {
  stored?: Partial<SessionRecord> & { data: SessionData }
  values?: SessionData
  userId?: string
  staleKeys?: string[]
  flags?: Partial<SessionState>
}): SessionState {
  const state = createSessionState()
  const record = options.stored && {
    key: 'key',
    createdAt: NOW - 7200,
    updatedAt: NOW - 1000,
    expiresAt: NOW + 2600,
    ...options.stored,
  }
  state.loaded = {
    stored: record && {
      record,
      json: snapshot(record.data),
      encoded: record.data,
      staleKeys: options.staleKeys ?? [],
    },
    values: new Map(Object.entries(options.values ?? record?.data ?? {})),
    userId: options.userId ?? record?.userId,
  }
  return Object.assign(state, options.flags)
}

/** The values the handler left, to change as a handler would. */
function valuesOf(state: SessionState): Map<string, unknown> {
  if (!state.loaded) throw new Error('the state was made loaded')
  return state.loaded.values
}

describe('planSave: what a request must write', () => {
  it('writes nothing for a session the handler never used', () => {
    const state = createSessionState()
    expect(planSave(state, context)).toEqual({ kind: 'nothing', cookie: undefined })
  })

  it('writes nothing when loading failed and onError chose to go on', () => {
    const state = stateWith({ values: { a: 1 }, flags: { readOnly: true } })
    expect(planSave(state, context)).toEqual({ kind: 'nothing', cookie: undefined })
  })

  it.each([
    ['an empty new session', {}, undefined],
    ['an empty session after a bad cookie', { hadBadCookie: true }, 'expire'],
    ['a destroyed session', { destroyed: true }, 'expire'],
  ] as const)('stores nothing for %s, and the cookie is %s', (_, flags, cookie) => {
    expect(planSave(stateWith({ flags }), context)).toEqual({ kind: 'end', movedFromId: undefined, cookie })
  })

  it('creates a new session with values, created and active now', () => {
    const plan = planSave(stateWith({ values: { a: 1 }, userId: 'u' }), context)
    expect(plan).toEqual({
      kind: 'create',
      record: { data: { a: 1 }, createdAt: NOW, updatedAt: NOW, expiresAt: NOW + 3600, userId: 'u' },
      movedFromId: undefined,
    })
  })

  it('moves a regenerated session, keeping its creation time so maxAge still counts from there', () => {
    const flags = { movedFrom: { id: 'old-id', createdAt: NOW - 100 } }
    const plan = planSave(stateWith({ values: { a: 1 }, flags }), {
      ...context,
      policy: { ...policy, maxAge: 600 },
    })
    expect(plan).toMatchObject({ kind: 'create', movedFromId: 'old-id', record: { createdAt: NOW - 100 } })
    expect(plan.kind === 'create' && plan.record.expiresAt).toBe(NOW + 500)
  })

  it('deletes the old item of a session regenerated and then emptied, and expires the cookie', () => {
    const flags = { movedFrom: { id: 'old-id', createdAt: NOW - 100 } }
    expect(planSave(stateWith({ flags }), context)).toEqual({
      kind: 'end',
      movedFromId: 'old-id',
      cookie: 'expire',
    })
  })

  it('writes nothing for an unchanged session touched within touchAfter', () => {
    const state = stateWith({ stored: { data: { a: 1 }, updatedAt: NOW - 100 } })
    expect(planSave(state, context)).toEqual({ kind: 'nothing', cookie: undefined })
  })

  it('writes nothing but re-signs the cookie of an unchanged session signed by an older secret', () => {
    const state = stateWith({
      stored: { data: { a: 1 }, updatedAt: NOW - 100 },
      flags: { signedWithOlderKey: true },
    })
    expect(planSave(state, context)).toEqual({ kind: 'nothing', cookie: 'set' })
  })

  it.each([
    [false, undefined],
    [true, 'set'],
  ] as const)(
    'touches an unchanged session past touchAfter (persistent cookie: %s, cookie: %s)',
    (persistent, cookie) => {
      const plan = planSave(stateWith({ stored: { data: { a: 1 } } }), {
        ...context,
        persistentCookie: persistent,
      })
      expect(plan).toMatchObject({
        kind: 'write',
        record: { updatedAt: NOW, expiresAt: NOW + 3600 },
        writes: [{ write: { kind: 'touch' }, cookie }],
      })
    },
  )

  it('updates only the changed keys, whatever the last write wins on the others', () => {
    const plan = planSave(
      stateWith({ stored: { data: { a: 1, b: 2 } }, values: { a: 1, b: 3, c: 4 } }),
      context,
    )
    expect(plan).toMatchObject({
      kind: 'write',
      userChanged: false,
      record: { data: { a: 1, b: 3, c: 4 } },
      writes: [{ write: { kind: 'update', keys: ['b', 'c'], ifUnchanged: false }, cookie: undefined }],
    })
  })

  it('sees a value changed in place as changed, and an equal value set again as unchanged', () => {
    const data = { list: [1], same: { x: 1 } }
    const state = stateWith({ stored: { data, updatedAt: NOW - 10 } })
    valuesOf(state).set('same', { x: 1 })
    expect(planSave(state, context).kind).toBe('nothing')
    ;(valuesOf(state).get('list') as number[]).push(2)
    expect(planSave(state, context)).toMatchObject({
      writes: [{ write: { kind: 'update', keys: ['list'] } }],
    })
  })

  it('deletes an emptied session only at the version it read, else writes its removals', () => {
    const plan = planSave(stateWith({ stored: { data: { a: 1 }, version: 4 }, values: {} }), context)
    expect(plan).toMatchObject({
      kind: 'write',
      writes: [
        { write: { kind: 'delete', ifVersion: 4 }, cookie: 'expire' },
        { write: { kind: 'update', keys: ['a'], ifUnchanged: false }, cookie: undefined },
      ],
    })
  })

  it('keeps an emptied session that is still bound to a user', () => {
    const plan = planSave(stateWith({ stored: { data: { a: 1 }, userId: 'u' }, values: {} }), context)
    expect(plan).toMatchObject({ writes: [{ write: { kind: 'update', keys: ['a'] } }] })
  })

  it('rewrites stale keys with the changes only if no other request wrote since, else only the changes', () => {
    const plan = planSave(
      stateWith({ stored: { data: { a: 1, old: 2 } }, values: { a: 5, old: 2 }, staleKeys: ['old'] }),
      context,
    )
    expect(plan).toMatchObject({
      writes: [
        { write: { kind: 'update', keys: ['a', 'old'], ifUnchanged: true } },
        { write: { kind: 'update', keys: ['a'], ifUnchanged: false } },
      ],
    })
  })

  it('rewrites the stale keys of an unchanged session in place of a touch, falling back to the touch', () => {
    const plan = planSave(stateWith({ stored: { data: { old: 2 } }, staleKeys: ['old'] }), context)
    expect(plan).toMatchObject({
      writes: [{ write: { kind: 'update', keys: ['old'], ifUnchanged: true } }, { write: { kind: 'touch' } }],
    })
  })

  it('writes the user with the update when the handler bound or unbound one', () => {
    const plan = planSave(stateWith({ stored: { data: { a: 1 } }, userId: 'u' }), context)
    expect(plan).toMatchObject({ kind: 'write', userChanged: true, record: { userId: 'u' } })
    expect(plan.kind === 'write' && plan.writes.at(-1)?.write).toEqual({
      kind: 'update',
      keys: [],
      ifUnchanged: false,
    })
  })

  it('ends an active session at maxAge however recently it was used', () => {
    const plan = planSave(stateWith({ stored: { data: { a: 1 }, createdAt: NOW - 500 }, values: { a: 2 } }), {
      ...context,
      policy: { ...policy, maxAge: 600 },
    })
    expect(plan).toMatchObject({ record: { expiresAt: NOW + 100 } })
  })

  it('refuses, before anything is written, a value mutated into something JSON cannot hold', () => {
    const state = stateWith({ values: { a: { n: 1 } } })
    ;(valuesOf(state).get('a') as { n: unknown }).n = 1n
    expect(() => planSave(state, context)).toThrow(SessionValueError)
  })
})
