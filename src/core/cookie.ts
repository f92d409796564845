import { type SerializeOptions, stringifySetCookie } from 'cookie'

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
}

/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis). */
export const MAX_COOKIE_AGE = 400 * 24 * 60 * 60

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
  serialize(value: string): string
  expire(): string
}

export function createSessionCookie(options: CookieOptions = {}): SessionCookie {
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
  validate(name, attributes)

  return {
    name,
    persistent: options.maxAge !== undefined,
    values(request) {
      const header = request.headers.get('cookie')
      return header ? cookieValues(header, name) : []
    },
    serialize(value) {
      return stringifySetCookie(name, value, attributes)
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

function validate(name: string, attributes: SerializeOptions): void {
  const fail = (message: string): never => {
    throw new Error(`Invalid session cookie options: ${message}`)
  }
  // Browsers match the prefixes in any case (RFC 6265bis), and drop a cookie that breaks their rules.
  const prefix = name.toLowerCase()
  if (prefix.startsWith('__host-')) {
    if (!attributes.secure) fail(`a "__Host-" cookie needs secure: true.`)
    if (attributes.path !== '/') fail(`a "__Host-" cookie needs path: '/'.`)
    if (attributes.domain !== undefined) fail(`a "__Host-" cookie cannot have a domain.`)
  }
  if (prefix.startsWith('__secure-') && !attributes.secure) fail(`a "__Secure-" cookie needs secure: true.`)
  if (attributes.partitioned && !attributes.secure) fail('partitioned: true needs secure: true.')
  if (attributes.sameSite === 'none' && !attributes.secure) fail(`sameSite: 'none' needs secure: true.`)
  const { maxAge } = attributes
  if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge <= 0 || maxAge > MAX_COOKIE_AGE)) {
    fail(`maxAge must be a whole number of seconds from 1 to ${MAX_COOKIE_AGE} (400 days), not ${maxAge}.`)
  }
  try {
    // The serializer rejects names and attributes holding ';', CR, LF or other bad characters.
    stringifySetCookie(name, 'x', attributes)
  } catch (error) {
    fail((error as Error).message)
  }
}
