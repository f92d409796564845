import { SessionValueError } from './errors.ts'
import type { SessionData } from './session.ts'

/**
 * The keys whose values a request changed or removed, compared as JSON, so that setting an
 * equal value is no change and a value changed in place is one. Every value is serialized,
 * proving it storable before any write.
 */
export function changedKeys(before: SessionData, after: SessionData): string[] {
  const changed: string[] = []
  for (const [key, value] of Object.entries(after)) {
    const serialized = json(value, key)
    if (!Object.hasOwn(before, key) || json(before[key], key) !== serialized) changed.push(key)
  }
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) changed.push(key)
  }
  return changed
}

function json(value: unknown, key: string): string {
  try {
    return JSON.stringify(value)
  } catch (error) {
    // A value mutated after set() into something JSON cannot hold, such as a BigInt.
    throw new SessionValueError(`Cannot store session value "${key}": ${(error as Error).message}.`)
  }
}
