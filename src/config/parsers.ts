// The parsers of option values given as strings (environment, command line, config file):
// whole numbers, booleans, durations like 5h. A bad value throws BadValue; the caller names the
// option and where it came from.

import { ConfigError } from '../errors.ts'

export type Parse = (raw: unknown) => unknown

/** Thrown by a parser; the caller adds which option and source the value came from. */
export class BadValue extends Error {}

export const text: Parse = (raw) => {
  if (typeof raw === 'string') return raw
  if (typeof raw === 'number') return String(raw) // YAML reads `table_name: 2024` as a number
  throw new BadValue('a string')
}

export const name: Parse = (raw) => {
  const value = text(raw) as string
  if (value === '') throw new BadValue('a non-empty string')
  return value
}

export const boolean: Parse = (raw) => {
  if (typeof raw === 'boolean') return raw
  const value = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined
  if (value === 'true' || value === 'yes' || value === 'on' || value === '1') return true
  if (value === 'false' || value === 'no' || value === 'off' || value === '0') return false
  throw new BadValue('a boolean (true or false)')
}

/** `cookie.secure`: true, false, or 'auto' (Secure over TLS only). */
export const booleanOrAuto: Parse = (raw) => {
  if (typeof raw === 'string' && raw.trim().toLowerCase() === 'auto') return 'auto'
  try {
    return boolean(raw)
  } catch {
    throw new BadValue("true, false or 'auto'")
  }
}

/** `compress`: true, false, or the size in bytes from which values are compressed. */
export const booleanOrCount: Parse = (raw) => {
  try {
    return boolean(raw)
  } catch {
    try {
      return count(raw)
    } catch {
      throw new BadValue('true, false, or a whole number of bytes')
    }
  }
}

export const count: Parse = (raw) => {
  const value = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value
  throw new BadValue('a whole number of 1 or more')
}

export const positiveNumber: Parse = (raw) => {
  const value = typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value
  throw new BadValue('a number above 0')
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }

const DURATION = 'a duration: whole seconds (3600) or a number with s, m, h, d or w (90s, 5m, 5h, 1d, 2w)'

/** Seconds from a duration; a BadValue, which `set` turns into a ConfigError naming the option, if none. */
export const duration: Parse = (raw) => {
  const match = typeof raw === 'string' ? /^\s*(\d+)\s*([smhdw]?)\s*$/.exec(raw) : undefined
  const seconds =
    typeof raw === 'number'
      ? raw
      : match
        ? Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1)
        : Number.NaN
  if (Number.isSafeInteger(seconds) && seconds > 0) return seconds
  throw new BadValue(DURATION)
}

/**
 * Seconds, from a whole number of seconds or a number and a unit: `90s`, `5m`, `5h`, `1d`, `2w`.
 * Anything else throws a `ConfigError` (its `option` is 'duration', its `source` 'code').
 *
 * @example
 * parseDuration('5h') // 18000
 */
export function parseDuration(raw: unknown): number {
  try {
    return duration(raw) as number
  } catch (error) {
    if (!(error instanceof BadValue)) throw error
    const shown = typeof raw === 'string' ? JSON.stringify(raw) : String(raw)
    throw new ConfigError(`parseDuration: ${shown} is not ${error.message}.`, 'duration', 'code')
  }
}

export const secrets: Parse = (raw) => {
  let value = raw
  // In a variable, several secrets are a JSON array; a single secret is taken as it is.
  if (typeof raw === 'string' && raw.trim().startsWith('[')) {
    try {
      value = JSON.parse(raw)
    } catch {
      throw new BadValue('a secret, or a JSON array of secrets')
    }
  }
  if (typeof value === 'string' && value !== '') return value
  if (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === 'string' && item !== '')
  ) {
    return value
  }
  throw new BadValue('a secret, or a list of secrets')
}

export const oneOf =
  (...choices: string[]): Parse =>
  (raw) => {
    const value = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined
    if (value !== undefined && choices.includes(value)) return value
    throw new BadValue(`one of ${choices.join(', ')}`)
  }
