import { SessionValueError } from './errors.ts'
import type { SessionData } from './session.ts'

// What a request changed in its session, key by key, so that a write that lost a race to
// another request of the same session can re-apply just its own changes to the newer data.

/** Per top-level key: the new value, or undefined for a deleted key. */
export type Changes = Map<string, unknown>

export function diff(before: SessionData, after: SessionData): Changes {
  const changes: Changes = new Map()
  for (const [key, value] of Object.entries(after)) {
    const serialized = json(value, key) // always, so every value is proven storable before any write
    if (!Object.hasOwn(before, key) || json(before[key], key) !== serialized) changes.set(key, value)
  }
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) changes.set(key, undefined)
  }
  return changes
}

export function applyChanges(data: SessionData, changes: Changes): SessionData {
  const next = Object.fromEntries(Object.entries(data))
  for (const [key, value] of changes) {
    if (value === undefined) delete next[key]
    else Object.defineProperty(next, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return next
}

function json(value: unknown, key: string): string {
  try {
    return JSON.stringify(value)
  } catch (error) {
    // A value mutated after set() into something JSON cannot hold, such as a BigInt.
    throw new SessionValueError(`Cannot store session value "${key}": ${(error as Error).message}.`)
  }
}
