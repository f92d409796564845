// Option checks shared by every entry point (the middleware, the store, the table tools, gc,
// loadConfig): each describes its options as a table of option name -> check, and one runner
// refuses unknown names (with a "did you mean") and wrong types at factory time, always with a
// ConfigError that names the option. It sits just above errors.ts, so that core/, dynamodb/ and
// config/, which cannot import each other, share one way of saying what is wrong.

import { ConfigError } from './errors.ts'

/** Where an option is being checked: the entry point that owns it and its path (`cookie.secure`). */
export interface OptionAt {
  /** As the message names it: `Session`, `DynamoDBStore`, `collectGarbage`. */
  owner: string
  path: string
}

/** Checks one given (not undefined) value; throws the ConfigError of `optionError` when it is wrong. */
export type Check = (value: unknown, at: OptionAt) => void

/** Option name -> check: adding an option is adding one line. */
export type OptionTable = Readonly<Record<string, Check>>

/**
 * Every top-level option of every entry point. One object (from `loadConfig`, say) configures the
 * store, the middleware, the table tools and gc, so each lets the others' options through
 * unchecked; a name in none of them is a mistake. config/config.ts proves at compile time that
 * this list is exactly the options of `SessionConfig`.
 */
export const ALL_OPTION_NAMES = [
  // the middleware
  'secretKey',
  'store',
  'maxStale',
  'maxAge',
  'touchAfter',
  'cookie',
  'trustProxy',
  'encrypt',
  'onError',
  'onEvent',
  // the store
  'tableName',
  'client',
  'region',
  'endpoint',
  'credentials',
  'consistentRead',
  'keyAttribute',
  'keyPrefix',
  'sortKey',
  'dataAttribute',
  'expiresAttribute',
  'compress',
  'userAttribute',
  'userIndex',
  'timeout',
  // createTable, deleteTable, checkTable
  'readCapacity',
  'writeCapacity',
  'maxWaitTime',
  // collectGarbage
  'segments',
  'rate',
  'maxAttempts',
  'onProgress',
  'signal',
  // loadConfig
  'configFile',
] as const

/**
 * The ConfigError for an option that is wrong: `problem` completes the sentence.
 *
 * @example
 * throw optionError({ owner: 'Session', path: 'touchAfter' }, 'must be less than "maxStale".')
 */
export function optionError(at: OptionAt, problem: string): ConfigError {
  return new ConfigError(`${at.owner} option "${at.path}" ${problem}`, at.path, 'code')
}

/**
 * A check from a test and what the value should be, for the message.
 *
 * @example
 * const port = check('a port number', (value) => Number.isInteger(value) && value > 0)
 */
export function check(expected: string, test: (value: unknown) => boolean): Check {
  return (value, at) => {
    if (!test(value)) throw optionError(at, `must be ${expected}, not ${describe(value)}.`)
  }
}

/** @example const table = { keyPrefix: aString } */
export const aString = check('a string', (value) => typeof value === 'string')
/** @example const table = { tableName: aName } */
export const aName = check('a non-empty string', (value) => typeof value === 'string' && value !== '')
/** @example const table = { encrypt: aBoolean } */
export const aBoolean = check('true or false', (value) => typeof value === 'boolean')
/** @example const table = { onError: aFunction } */
export const aFunction = check('a function', (value) => typeof value === 'function')

/**
 * A whole number from `min` to `max`, in `unit` (`seconds`, `milliseconds`).
 *
 * @example
 * const table = { maxStale: wholeNumber(1, undefined, 'seconds') }
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER, unit = ''): Check {
  const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`
  return check(
    `a whole number${unit ? ` of ${unit}` : ''}, ${range}`,
    (value) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max,
  )
}

/**
 * One of a few strings, given exactly.
 *
 * @example
 * const table = { sameSite: oneOf('lax', 'strict', 'none') }
 */
export function oneOf(...choices: string[]): Check {
  const listed = choices.map((choice) => `'${choice}'`)
  return check(`${listed.slice(0, -1).join(', ')} or ${listed.at(-1)}`, (value) =>
    choices.includes(value as string),
  )
}

/**
 * A plain object whose own options follow `table`, checked under this option's path.
 *
 * @example
 * const table = { sortKey: objectOf({ attribute: aName, value: aString }) }
 */
export function objectOf(table: OptionTable): Check {
  return (value, at) => {
    if (!isPlainObject(value)) throw optionError(at, `must be an object of options, not ${describe(value)}.`)
    checkEntries(value, table, at.owner, `${at.path}.`, [])
  }
}

/**
 * Checks an options object against its table, at factory time: it must be an object, every name
 * must be in `table` or `passThrough` (else "did you mean"), and every value given must pass its
 * check. Undefined values count as not given, so the defaults apply.
 *
 * @example
 * checkOptions('DynamoDBStore', options, STORE_OPTIONS, ALL_OPTION_NAMES)
 */
export function checkOptions(
  owner: string,
  options: unknown,
  table: OptionTable,
  passThrough: readonly string[] = [],
): void {
  if (!isPlainObject(options)) {
    throw new ConfigError(`${owner} needs an object of options, not ${describe(options)}.`, 'options', 'code')
  }
  checkEntries(options, table, owner, '', passThrough)
}

function checkEntries(
  options: Record<string, unknown>,
  table: OptionTable,
  owner: string,
  prefix: string,
  passThrough: readonly string[],
): void {
  for (const [name, value] of Object.entries(options)) {
    const path = prefix + name
    const checkOne = Object.hasOwn(table, name) ? table[name] : undefined
    if (!checkOne && !passThrough.includes(name)) {
      const known = Object.keys(table).map((key) => prefix + key)
      // Another entry point's option may be the one meant (touchAftr given to the store).
      const suggestion = closest(path, [...known, ...passThrough])
      throw new ConfigError(
        `Unknown ${owner} option "${path}": ${
          suggestion ? `did you mean "${suggestion}"?` : `the options are ${known.join(', ')}.`
        }`,
        path,
        'code',
      )
    }
    if (checkOne && value !== undefined) checkOne(value, { owner, path })
  }
}

/**
 * A value as a message shows it: short, and never the contents of an object.
 *
 * @example
 * describe('no') // '"no"'
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`
  if (Array.isArray(value)) return 'an array'
  if (value === null || typeof value !== 'object') return String(value)
  const kind = value.constructor?.name
  return kind && kind !== 'Object' ? `a ${kind}` : 'an object'
}

/**
 * The known name nearest to a misspelt one, if near enough to be what was meant.
 *
 * @example
 * closest('maxStal', ['maxStale', 'maxAge']) // 'maxStale'
 */
export function closest(written: string, known: readonly string[], ignore = ''): string | undefined {
  // Only the part after a shared prefix counts (`ignore`): WHATEVER is not near RATE.
  const bare = (name: string) => name.replace(ignore, '').replace(/^--/, '').toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(bare(written).length / 4)) + 1
  for (const candidate of known) {
    const distance = editDistance(bare(written), bare(candidate))
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/**
 * True for `{}` and `Object.create(null)`-like objects; false for arrays, functions, class instances.
 *
 * @example
 * isPlainObject({ secure: true }) // true
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  // Object.prototype of this realm or another (a vm context, a test runner), or none.
  const proto = Object.getPrototypeOf(value)
  return proto === null || Object.getPrototypeOf(proto) === null
}
