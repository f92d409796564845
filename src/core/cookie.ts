import { type SerializeOptions, stringifySetCookie } from 'cookie'
import type { ConfigError } from '../errors.ts'
import {
  aBoolean,
  aName,
  type Check,
  check,
  describe,
  isPlainObject,
  type OptionAt,
  objectOf,
  oneOf,
  optionError,
  wholeNumber,
} from '../option-checks.ts'
import { isTlsRequest } from './protocol.ts'
import { RecentMap } from './recent.ts'

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
  /**
   * `'auto'`: Secure over TLS only, decided per request from its URL (and from the proxy's
   * headers with `trustProxy`). Set false only for plain-HTTP development. @default true
   */
  secure?: boolean | 'auto'
  /** @default true */
  httpOnly?: boolean
  /** `'auto'`: `'none'` over TLS, `'lax'` over plain HTTP, decided as `secure: 'auto'` is. @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none' | 'auto'
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

/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis). */
export const MAX_COOKIE_AGE = 400 * 24 * 60 * 60
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
  secure: check("true, false or 'auto'", (value) => typeof value === 'boolean' || value === 'auto'),
  httpOnly: aBoolean,
  sameSite: oneOf('lax', 'strict', 'none', 'auto'),
  partitioned: aBoolean,
  maxAge: wholeNumber(1, MAX_COOKIE_AGE, 'seconds (400 days at most)'),
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
 * The `cookie` option as a function: the cookie options for one request (one app on several
 * domains, a SameSite for clients that mishandle None). It is called once per request, before
 * the cookie is read, so the name it returns is the one read and written.
 */
export type CookieOptionsFor = (request: Request) => CookieOptions

/**
 * The check of the `cookie` option: cookie options, or a function of the request returning them
 * (whose results are checked on each request that brings a new one).
 *
 * @example
 * SESSION_OPTIONS.cookie === checkCookieOption
 */
export const checkCookieOption: Check = (value, at) => {
  if (typeof value === 'function') return
  if (!isPlainObject(value)) {
    throw optionError(
      at,
      `must be an object of cookie options, or a function of the request returning them, not ${describe(value)}.`,
    )
  }
  checkCookieOptions(value, at)
}

/** How many distinct results of a `cookie` function are kept checked and built. */
export const COOKIE_RESULTS_KEPT = 100

/**
 * The session cookie of each request, from the `cookie` option: options checked here, once (a
 * ConfigError names the option at fault), or a function whose results are checked the first
 * time each is seen and kept (the most recent {@link COOKIE_RESULTS_KEPT}). `'auto'` options pick
 * the TLS or the plain-HTTP cookie per request; `trustProxy` lets the proxy's headers say which.
 *
 * @example
 * const cookieFor = createCookieChooser((request) => ({ domain: new URL(request.url).hostname }))
 * cookieFor(request).values(request)
 */
export function createCookieChooser(
  option: CookieOptions | CookieOptionsFor = {},
  trustProxy = false,
): (request: Request) => SessionCookie {
  const pick = (cookies: CookiePair, request: Request) =>
    cookies.tls === cookies.plain || isTlsRequest(request, trustProxy) ? cookies.tls : cookies.plain
  if (typeof option !== 'function') {
    const cookies = cookiePair(option, 'cookie')
    return (request) => pick(cookies, request)
  }
  const built = new RecentMap<string, CookiePair>(COOKIE_RESULTS_KEPT)
  // open() and commit() ask for the same request's cookie: the function runs once per request.
  const chosen = new WeakMap<Request, SessionCookie>()
  return (request) => {
    let cookie = chosen.get(request)
    if (cookie === undefined) {
      const options: unknown = option(request)
      const key = resultKey(options)
      let cookies = built.get(key)
      if (cookies === undefined) {
        cookies = cookiePair(options as CookieOptions, 'cookie(request)')
        built.set(key, cookies)
      }
      cookie = pick(cookies, request)
      chosen.set(request, cookie)
    }
    return cookie
  }
}

/** The cookie for TLS requests and the one for plain HTTP: the same one unless an option is 'auto'. */
interface CookiePair {
  tls: SessionCookie
  plain: SessionCookie
}

function cookiePair(options: CookieOptions, path: string): CookiePair {
  const tls = createSessionCookie(options, { overTls: true, path })
  const auto = options.secure === 'auto' || options.sameSite === 'auto'
  return { tls, plain: auto ? createSessionCookie(options, { overTls: false, path }) : tls }
}

/** A `cookie` function's result as a cache key: equal options, equal keys, whatever their order. */
function resultKey(options: unknown): string {
  const at: OptionAt = { owner: OWNER, path: 'cookie(request)' }
  if (options instanceof Promise) {
    throw optionError(at, 'returned a Promise: the cookie function must return its options synchronously.')
  }
  if (!isPlainObject(options)) checkCookieOptions(options, at)
  const given = Object.entries(options as object).filter(([, value]) => value !== undefined)
  return JSON.stringify(given.sort(([a], [b]) => (a < b ? -1 : 1)))
}

/**
 * The session cookie for these options, checked once (a ConfigError names the option at fault).
 * `'auto'` options take their value for a request over TLS (`overTls`, the default) or not.
 *
 * @example
 * createSessionCookie({ name: '__Host-sid' }).serialize('value')
 */
export function createSessionCookie(
  options: CookieOptions = {},
  { overTls = true, path = 'cookie' }: { overTls?: boolean; path?: string } = {},
): SessionCookie {
  checkCookieOptions(options, { owner: OWNER, path })
  const name = options.name ?? 'sid'
  const attributes: SerializeOptions = {
    path: options.path ?? '/',
    secure: options.secure === 'auto' ? overTls : (options.secure ?? true),
    httpOnly: options.httpOnly ?? true,
    sameSite: options.sameSite === 'auto' ? (overTls ? 'none' : 'lax') : (options.sameSite ?? 'lax'),
  }
  if (options.domain !== undefined) attributes.domain = options.domain
  if (options.partitioned) attributes.partitioned = true
  if (options.maxAge !== undefined) attributes.maxAge = options.maxAge
  if (options.priority !== undefined) attributes.priority = options.priority
  validate(name, attributes, path, autoNote(options, overTls))

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

/** Why an 'auto' option gave the value that broke a rule, for the message; '' when none did. */
function autoNote(options: CookieOptions, overTls: boolean): string {
  if (options.secure === 'auto' && !overTls) {
    return " (secure: 'auto' leaves it off over plain HTTP, where browsers would then drop this cookie; set secure: true)"
  }
  if (options.sameSite === 'auto' && overTls) return " (sameSite: 'auto' is 'none' over HTTPS)"
  return ''
}

/**
 * The rules between options that browsers enforce by dropping the cookie, and header safety.
 * `note` ends the rules' messages: why an 'auto' value broke them.
 */
function validate(name: string, attributes: SerializeOptions, optionPath: string, note: string): void {
  const fail = (option: keyof CookieOptions, problem: string): ConfigError =>
    optionError({ owner: OWNER, path: `${optionPath}.${option}` } satisfies OptionAt, problem)
  // Browsers match the prefixes in any case (RFC 6265bis), and drop a cookie that breaks their rules.
  const prefix = name.toLowerCase()
  if (prefix.startsWith('__host-')) {
    if (!attributes.secure) throw fail('secure', `must be true for a "__Host-" cookie ("${name}")${note}.`)
    if (attributes.path !== '/') throw fail('path', `must be '/' for a "__Host-" cookie ("${name}").`)
    if (attributes.domain !== undefined) {
      throw fail('domain', `cannot be set for a "__Host-" cookie ("${name}"): it is kept to this host.`)
    }
  }
  if (prefix.startsWith('__secure-') && !attributes.secure) {
    throw fail('secure', `must be true for a "__Secure-" cookie ("${name}")${note}.`)
  }
  if (attributes.partitioned && !attributes.secure) {
    throw fail(
      'secure',
      `must be true with partitioned: true: browsers drop an insecure partitioned cookie${note}.`,
    )
  }
  if (attributes.sameSite === 'none' && !attributes.secure) {
    throw fail('secure', `must be true with sameSite: 'none': browsers drop such a cookie otherwise${note}.`)
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
