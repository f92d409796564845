import { parseCookie, type SerializeOptions, stringifySetCookie } from 'cookie'

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

/** The session cookie, its options validated once: reads it from requests and writes Set-Cookie values. */
export interface SessionCookie {
  name: string
  /** True when the cookie outlives the browser session and must be renewed as the session slides. */
  persistent: boolean
  read(request: Request): string | undefined
  /**
   * The Set-Cookie header for `value`. `maxAge` overrides the options' for this session: seconds
   * (at most 400 days; none left expires it), or 'browser' for a browser-session cookie.
   */
  serialize(value: string, maxAge?: number | 'browser'): string
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
    read(request) {
      const header = request.headers.get('cookie')
      return header ? parseCookie(header)[name] : undefined
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
