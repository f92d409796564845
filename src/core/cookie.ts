import { type SerializeOptions, stringifySetCookie } from 'cookie'
import type { ConfigError } from '../errors.ts'
import {
  aBoolean,
  aName,
  type Check,
  type OptionAt,
  objectOf,
  oneOf,
  optionError,
  wholeNumber,
} from '../option-checks.ts'

export interface CookieOptions {
  /**
   * The cookie's name. Prefix it with `__Host-` (Secure, Path=/, no Domain) or `__Secure-`
   * to have browsers enforce those rules.
   * @default 'sid'
   */
  name?: string
  /** @default '/' */
  path?: string
  /** Leave unset to keep the cookie to this host only. */
  domain?: string
  /** Set false only for plain-HTTP development. @default true */
  secure?: boolean
  /** @default true */
  httpOnly?: boolean
  /** @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none'
  /** CHIPS: a cookie partitioned by top-level site; needs `secure`. @default false */
  partitioned?: boolean
  /**
   * Seconds for a persistent cookie, at most 400 days (browsers cap it there). Unset, the
   * cookie lasts until the browser session ends, while the server keeps its own expiry.
   */
  maxAge?: number
  /**
   * Chrome's `Priority` attribute: which cookies a full cookie jar evicts last. `'high'` keeps the
   * session cookie over others of the site. @default unset (browsers treat it as medium)
   */
  priority?: 'low' | 'medium' | 'high'
}

const MAX_COOKIE_AGE_SECONDS = 400 * 24 * 60 * 60
/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis). */
export const MAX_COOKIE_AGE = MAX_COOKIE_AGE_SECONDS
const OWNER = 'Session'

/**
 * How many cookies of the session's name a request may offer: an old one left at a narrower
 * Path, or a Domain cookie set by a subdomain, can come before the right one. More are ignored,
 * so a header stuffed with junk costs a bounded number of signature checks.
 */
export const MAX_SESSION_COOKIES = 3

/** The session cookie, its options validated once: reads it from requests and writes Set-Cookie values. */
export interface SessionCookie {
  name: string
  /** True when the cookie outlives the browser session and must be renewed as the session slides. */
  persistent: boolean
  /** The values of the cookies of this name, in the order sent, at most MAX_SESSION_COOKIES. */
  values(request: Request): string[]
  /**
   * The Set-Cookie header for `value`. `maxAge` overrides the options' for this session: seconds
   * (at most 400 days; none left expires it), or 'browser' for a browser-session cookie.
   */
  serialize(value: string, maxAge?: number | 'browser'): string
  expire(): string
}

/**
 * Every cookie option -> its check, one line each; the relations between them (prefixes, Secure)
 * are checked by `createSessionCookie`.
 */
const COOKIE_OPTIONS = {
  name: aName,
  path: aName,
  domain: aName,
  secure: aBoolean,
  httpOnly: aBoolean,
  sameSite: oneOf('lax', 'strict', 'none'),
  partitioned: aBoolean,
  maxAge: wholeNumber(1, MAX_COOKIE_AGE_SECONDS, 'seconds (400 days at most)'),
  priority: oneOf('low', 'medium', 'high'),
} satisfies Record<keyof CookieOptions, Check>

/**
 * The check of the `cookie` option: an object of known cookie options, each of its type.
 *
 * @example
 * checkCookieOptions({ httpOnly: 'no' }, { owner: 'Session', path: 'cookie' }) // throws a ConfigError
 */
export const checkCookieOptions: Check = objectOf(COOKIE_OPTIONS)

/**
 * The session cookie for these options, checked once (a ConfigError names the option at fault).
 *
 * @example
 * createSessionCookie({ name: '__Host-sid' }).serialize('value')
 */
export function createSessionCookie(options: CookieOptions = {}): SessionCookie {
  checkCookieOptions(options, { owner: OWNER, path: 'cookie' })
  const name = options.name ?? 'sid'
  const attributes: SerializeOptions = {
    path: options.path ?? '/',
    secure: options.secure ?? true,
    httpOnly: options.httpOnly ?? true,
    sameSite: options.sameSite ?? 'lax',
  }
  if (options.domain !== undefined) attributes.domain = options.domain
  if (options.partitioned) attributes.partitioned = true
  if (options.maxAge !== undefined) attributes.maxAge = options.maxAge
  if (options.priority !== undefined) attributes.priority = options.priority
  validate(name, attributes)

  return {
    name,
    persistent: options.maxAge !== undefined,
    values(request) {
      const header = request.headers.get('cookie')
      return header ? cookieValues(header, name) : []
    },
    serialize(value, maxAge) {
      if (maxAge === undefined) return stringifySetCookie(name, value, attributes)
      const { maxAge: _, ...rest } = attributes
      if (maxAge === 'browser') return stringifySetCookie(name, value, rest)
      if (maxAge <= 0) return this.expire()
      return stringifySetCookie(name, value, { ...rest, maxAge: Math.min(maxAge, MAX_COOKIE_AGE) })
    },
    expire() {
      const { maxAge: _, ...rest } = attributes
      return stringifySetCookie(name, '', { ...rest, expires: new Date(0), maxAge: 0 })
    },
  }
}

/**
 * The values of the cookies named `name` in a Cookie header, in order: browsers send the one
 * with the longest Path first. Parsed as the `cookie` package does (trimmed, %-decoded when
 * valid), but only the pairs of this name are kept.
 */
export function cookieValues(header: string, name: string): string[] {
  const values: string[] = []
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=')
    if (equals === -1 || pair.slice(0, equals).trim() !== name) continue
    values.push(decode(pair.slice(equals + 1).trim()))
    if (values.length === MAX_SESSION_COOKIES) break
  }
  return values
}

function decode(value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/** The rules between options that browsers enforce by dropping the cookie, and header safety. */
function validate(name: string, attributes: SerializeOptions): void {
  const fail = (option: keyof CookieOptions, problem: string): ConfigError =>
    optionError({ owner: OWNER, path: `cookie.${option}` } satisfies OptionAt, problem)
  // Browsers match the prefixes in any case (RFC 6265bis), and drop a cookie that breaks their rules.
  const prefix = name.toLowerCase()
  if (prefix.startsWith('__host-')) {
    if (!attributes.secure) throw fail('secure', `must be true for a "__Host-" cookie ("${name}").`)
    if (attributes.path !== '/') throw fail('path', `must be '/' for a "__Host-" cookie ("${name}").`)
    if (attributes.domain !== undefined) {
      throw fail('domain', `cannot be set for a "__Host-" cookie ("${name}"): it is kept to this host.`)
    }
  }
  if (prefix.startsWith('__secure-') && !attributes.secure) {
    throw fail('secure', `must be true for a "__Secure-" cookie ("${name}").`)
  }
  if (attributes.partitioned && !attributes.secure) {
    throw fail('secure', 'must be true with partitioned: true: browsers drop an insecure partitioned cookie.')
  }
  if (attributes.sameSite === 'none' && !attributes.secure) {
    throw fail('secure', "must be true with sameSite: 'none': browsers drop such a cookie otherwise.")
  }
  // The serializer refuses ';', CR, LF and other characters that would break the header.
  const { path, domain } = attributes
  const parts: [keyof CookieOptions, () => unknown][] = [
    ['name', () => stringifySetCookie(name, 'x')],
    ['path', () => path !== undefined && stringifySetCookie('x', 'x', { path })],
    ['domain', () => domain !== undefined && stringifySetCookie('x', 'x', { domain })],
  ]
  for (const [option, serialize] of parts) {
    try {
      serialize()
    } catch (error) {
      throw fail(option, `holds characters a Set-Cookie header cannot carry: ${(error as Error).message}.`)
    }
  }
}
