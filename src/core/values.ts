import { SessionValueError } from '../errors.ts'

/** Deeper than this is refused: it is almost always a mistake, and recursion has limits. */
const MAX_DEPTH = 256

/**
 * Throws a `SessionValueError` unless `value` survives a JSON round trip unchanged:
 * plain objects, arrays, strings, finite numbers, booleans and null.
 */
export function assertStorable(value: unknown, path: string): void {
  check(value, path, new Set(), 0)
}

function check(value: unknown, path: string, ancestors: Set<object>, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) refuse(`${path} is ${value}, which JSON cannot hold`)
      return
    case 'object': {
      if (value === null) return
      if (depth >= MAX_DEPTH) refuse(`${path} is nested more than ${MAX_DEPTH} levels deep`)
      if (ancestors.has(value)) refuse(`${path} refers back to itself; JSON cannot hold cycles`)
      ancestors.add(value)
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype)
          refuse(`${path} is an array of a subclass, which JSON turns into a plain array`)
        // for...of visits holes too, which forEach skips: JSON turns a hole into null.
        let index = 0
        for (const item of value) {
          if (item === undefined)
            refuse(`${path}[${index}] is undefined or a hole, which JSON turns into null`)
          check(item, `${path}[${index}]`, ancestors, depth + 1)
          index++
        }
        const named = Object.keys(value).find((key) => !isIndex(key, value.length))
        if (named !== undefined)
          refuse(`${path} has the named property "${named}", which JSON drops from arrays`)
      } else {
        const prototype = Object.getPrototypeOf(value)
        if (prototype !== Object.prototype && prototype !== null) {
          refuse(
            `${path} is a ${value.constructor?.name ?? 'non-plain object'}, which does not survive JSON. ` +
              'Store plain objects and arrays (a Date as date.toISOString(), a Map as Object.fromEntries(map))',
          )
        }
        for (const [key, item] of Object.entries(value)) {
          // JSON drops undefined properties, as absent ones read back the same.
          if (item !== undefined) check(item, `${path}.${key}`, ancestors, depth + 1)
        }
      }
      ancestors.delete(value)
      return
    }
    default:
      refuse(`${path} is a ${typeof value}, which JSON cannot hold`)
  }
}

function isIndex(key: string, length: number): boolean {
  const index = Number(key)
  return Number.isInteger(index) && index >= 0 && index < length && String(index) === key
}

function refuse(reason: string): never {
  throw new SessionValueError(`Cannot store session value: ${reason}.`)
}
