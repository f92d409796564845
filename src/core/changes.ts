import { SessionValueError } from '../errors.ts'
import type { SessionData } from './session.ts'

/** Each value as JSON: what a session held when read, for `changedKeys` to compare with. */
export function snapshot(data: SessionData): ReadonlyMap<string, string> {
  return new Map(Object.entries(data).map(([key, value]) => [key, json(value, key)]))
}

/**
 * The keys whose values a request changed or removed, compared as JSON with the `snapshot` taken
 * when the session was read, so that setting an equal value is no change and a value changed in
 * place is one. Every value is serialized, proving it storable before any write.
 */
export function changedKeys(before: ReadonlyMap<string, string>, after: SessionData): string[] {
  const changed: string[] = []
  for (const [key, value] of Object.entries(after)) {
    if (before.get(key) !== json(value, key)) changed.push(key)
  }
  for (const key of before.keys()) {
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

/** Throws a `SessionValueError` unless every value serializes: proven before anything is written. */
export function assertJson(data: SessionData): void {
  for (const [key, value] of Object.entries(data)) json(value, key)
}
