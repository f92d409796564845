// Every option a string can set (environment, command line, config file), with its parser and
// its names: AWS_DYNAMO_DB_SESSION_MAX_STALE, --max-stale. Compile-time checks keep the table
// equal to the options of the store, the middleware, createTable and collectGarbage.

import type { CookieOptions } from '../core/cookie.ts'
import type { SessionOptions } from '../core/options.ts'
import type { GarbageCollectionOptions } from '../dynamodb/gc.ts'
import type { TableOptions } from '../dynamodb/table.ts'
import type { ALL_OPTION_NAMES } from '../option-checks.ts'
import {
  boolean,
  booleanOrAuto,
  booleanOrCount,
  count,
  duration,
  name,
  oneOf,
  type Parse,
  positiveNumber,
  secrets,
  text,
} from './parsers.ts'

/**
 * Every option of the store, the middleware, `createTable` and `collectGarbage`, all optional:
 * the one object they can all be configured from. The defaults stay with each of them.
 */
export interface SessionConfig
  extends Partial<Omit<SessionOptions, 'store'>>,
    Partial<TableOptions>,
    Partial<Pick<GarbageCollectionOptions, 'segments' | 'rate' | 'maxAttempts'>> {
  /** A YAML or JSON file of options (`.json` is read as JSON, anything else as YAML). */
  configFile?: string
}

export const ENV_PREFIX = 'AWS_DYNAMO_DB_SESSION_'

/** Options that are objects or functions, so only code can give them. */
export const CODE_ONLY = [
  'client',
  'credentials',
  'onError',
  'onEvent',
  'store',
  'onProgress',
  'signal',
] as const

/** Every option a string can set, as its path in the options object: `maxStale`, `cookie.secure`. */
type OptionPath =
  | Exclude<keyof SessionConfig, (typeof CODE_ONLY)[number] | 'configFile' | 'cookie' | 'sortKey'>
  | `cookie.${keyof CookieOptions}`
  | `sortKey.${keyof NonNullable<SessionConfig['sortKey']>}`

/** Every option a string can set, with its parser. */
const OPTIONS = [
  ['tableName', name],
  ['region', name],
  ['endpoint', name],
  ['consistentRead', boolean],
  ['keyAttribute', name],
  ['keyPrefix', text],
  ['sortKey.attribute', name],
  ['sortKey.value', text],
  ['timeout', count],
  ['dataAttribute', name],
  ['expiresAttribute', name],
  ['userAttribute', name],
  ['userIndex', name],
  ['secretKey', secrets],
  ['maxStale', duration],
  ['maxAge', duration],
  ['touchAfter', duration],
  ['trustProxy', boolean],
  ['cookie.name', name],
  ['cookie.path', name],
  ['cookie.domain', name],
  ['cookie.secure', booleanOrAuto],
  ['cookie.httpOnly', boolean],
  ['cookie.sameSite', oneOf('lax', 'strict', 'none', 'auto')],
  ['cookie.partitioned', boolean],
  ['cookie.maxAge', duration],
  ['cookie.priority', oneOf('low', 'medium', 'high')],
  ['readCapacity', count],
  ['writeCapacity', count],
  ['maxWaitTime', duration],
  ['segments', count],
  ['rate', positiveNumber],
  ['maxAttempts', count],
  ['encrypt', boolean],
  ['compress', booleanOrCount],
] as const satisfies ReadonlyArray<readonly [OptionPath, Parse]>

// A new option of the store, the middleware, createTable or collectGarbage fails to compile here
// until it is given a parser above (or listed in CODE_ONLY).
const everyOptionHasAParser: [Exclude<OptionPath, (typeof OPTIONS)[number][0]>] extends [never]
  ? true
  : never = true
void everyOptionHasAParser

// The option-checks module lets every entry point pass the others' options through; its list must
// be exactly SessionConfig's options and those only code can give, or this fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
const everyOptionIsKnownToTheChecks: Same<
  (typeof ALL_OPTION_NAMES)[number],
  | keyof SessionConfig
  | keyof Pick<SessionOptions, 'store'>
  | keyof Pick<GarbageCollectionOptions, 'onProgress' | 'signal'>
> = true
void everyOptionIsKnownToTheChecks

/** Every option a string can set, as its path (`maxStale`, `cookie.secure`): the command line's flags come from these. */
export const OPTION_PATHS: readonly OptionPath[] = OPTIONS.map(([path]) => path)
export type { OptionPath }

export const PARSERS = new Map<string, Parse>(OPTIONS)
export const snake = (word: string) => word.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)
const kebab = (word: string) => word.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)
export const camel = (word: string) =>
  word.replace(/[_-]([a-z])/g, (_, letter: string) => letter.toUpperCase())

/**
 * The environment variable of an option.
 *
 * @example
 * envName('cookie.httpOnly') // 'AWS_DYNAMO_DB_SESSION_COOKIE_HTTP_ONLY'
 */
export function envName(path: string): string {
  return ENV_PREFIX + path.split('.').map(snake).join('_').toUpperCase()
}

/**
 * The command-line flag of an option, without its dashes.
 *
 * @example
 * flagName('cookie.httpOnly') // 'cookie-http-only'
 */
export function flagName(path: string): string {
  return path.split('.').map(kebab).join('-')
}

export const BY_ENV = new Map(OPTIONS.map(([path]) => [envName(path), path]))
export const BY_FLAG = new Map(OPTIONS.map(([path]) => [flagName(path), path]))
