import { describe, expect, it } from 'vitest'
import {
  type CookieOptions,
  createSessionCookie,
  MAX_COOKIE_AGE,
  MAX_SESSION_COOKIES,
} from '../../src/core/cookie.ts'
import { ConfigError, getSession, MemoryStore, sessionMiddleware } from '../../src/index.ts'
import { app, SECRET } from '../support/harness.ts'

describe('the session cookie by default', () => {
  it('is sid, HttpOnly, Secure, SameSite=Lax, Path=/, and lasts for the browser session', async () => {
    const { cookie } = await app(new MemoryStore()).send(async (request) => {
      await getSession(request).set('x', 1)
      return new Response('ok')
    })
    const attributes = (cookie?.header ?? '').split('; ').slice(1)
    expect(cookie?.header).toMatch(/^sid=/)
    expect(attributes.sort()).toEqual(['HttpOnly', 'Path=/', 'SameSite=Lax', 'Secure'])
  })

  it('is persistent only when a maxAge is asked for', () => {
    const cookie = createSessionCookie({ maxAge: 3600, partitioned: true, sameSite: 'none' })
    expect(cookie.persistent).toBe(true)
    expect(cookie.serialize('v')).toBe(
      'sid=v; Max-Age=3600; Path=/; HttpOnly; Secure; Partitioned; SameSite=None',
    )
    expect(createSessionCookie().persistent).toBe(false)
  })

  it('expires with the attributes it was set with', () => {
    const cookie = createSessionCookie({ name: '__Secure-s', domain: 'example.com', path: '/', maxAge: 60 })
    expect(cookie.expire()).toBe(
      '__Secure-s=; Max-Age=0; Domain=example.com; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    )
  })

  it('is read from a Cookie header among others', () => {
    const cookie = createSessionCookie()
    const request = new Request('https://app.test/', { headers: { cookie: 'a=1; sid=abc.def; b=2' } })
    expect(cookie.values(request)).toEqual(['abc.def'])
    expect(cookie.values(new Request('https://app.test/'))).toEqual([])
  })

  it('reads every cookie of its name, in the order sent, up to MAX_SESSION_COOKIES', () => {
    const cookie = createSessionCookie()
    const header = 'sid=first; a=1; sid = second ; sidx=no; xsid=no; sid=th%69rd; sid=fourth; sid=fifth'
    const request = new Request('https://app.test/', { headers: { cookie: header } })
    expect(MAX_SESSION_COOKIES).toBe(3)
    expect(cookie.values(request)).toEqual(['first', 'second', 'third'])
  })
})

describe('cookie options are validated when the middleware is made', () => {
  const make = (cookie: CookieOptions) => () =>
    sessionMiddleware({ secretKey: SECRET, store: new MemoryStore(), cookie })
  /** The ConfigError that making the middleware throws: its option, and its message. */
  const refusal = (cookie: CookieOptions) => {
    try {
      make(cookie)()
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      const { option, source, message } = error as ConfigError
      expect(source).toBe('code')
      return { option, message }
    }
    throw new Error(`the cookie options ${JSON.stringify(cookie)} were accepted`)
  }

  it('enforces the __Host- prefix rules: Secure, Path=/, no Domain', () => {
    expect(refusal({ name: '__Host-sid', secure: false })).toEqual({
      option: 'cookie.secure',
      message: 'Session option "cookie.secure" must be true for a "__Host-" cookie ("__Host-sid").',
    })
    expect(refusal({ name: '__Host-sid', path: '/app' })).toEqual({
      option: 'cookie.path',
      message: `Session option "cookie.path" must be '/' for a "__Host-" cookie ("__Host-sid").`,
    })
    expect(refusal({ name: '__Host-sid', domain: 'example.com' })).toEqual({
      option: 'cookie.domain',
      message:
        'Session option "cookie.domain" cannot be set for a "__Host-" cookie ("__Host-sid"): it is kept to this host.',
    })
    expect(make({ name: '__Host-sid' })).not.toThrow()
  })

  it('enforces the __Secure- prefix rule: Secure', () => {
    expect(refusal({ name: '__Secure-sid', secure: false }).message).toBe(
      'Session option "cookie.secure" must be true for a "__Secure-" cookie ("__Secure-sid").',
    )
    expect(make({ name: '__Secure-sid', domain: 'example.com' })).not.toThrow()
  })

  it('enforces the prefix rules whatever the case of the prefix, as browsers do', () => {
    expect(refusal({ name: '__host-sid', secure: false }).option).toBe('cookie.secure')
    expect(refusal({ name: '__HOST-sid', path: '/app' }).option).toBe('cookie.path')
    expect(refusal({ name: '__secure-sid', secure: false }).option).toBe('cookie.secure')
  })

  it('needs Secure for Partitioned and for SameSite=None', () => {
    expect(refusal({ partitioned: true, secure: false }).message).toBe(
      'Session option "cookie.secure" must be true with partitioned: true: browsers drop an insecure partitioned cookie.',
    )
    expect(refusal({ sameSite: 'none', secure: false }).message).toBe(
      `Session option "cookie.secure" must be true with sameSite: 'none': browsers drop such a cookie otherwise.`,
    )
  })

  it('caps Max-Age at 400 days', () => {
    const expected = (value: string) =>
      `Session option "cookie.maxAge" must be a whole number of seconds (400 days at most), from 1 to 34560000, not ${value}.`
    expect(refusal({ maxAge: MAX_COOKIE_AGE + 1 })).toEqual({
      option: 'cookie.maxAge',
      message: expected('34560001'),
    })
    expect(refusal({ maxAge: 0 }).message).toBe(expected('0'))
    expect(refusal({ maxAge: 1.5 }).message).toBe(expected('1.5'))
    expect(make({ maxAge: MAX_COOKIE_AGE })).not.toThrow()
  })

  it('rejects names and attributes that would break the header, naming the option', () => {
    expect(refusal({ name: 'bad;name' })).toEqual({
      option: 'cookie.name',
      message:
        'Session option "cookie.name" holds characters a Set-Cookie header cannot carry: argument name is invalid: bad;name.',
    })
    expect(refusal({ domain: 'example.com\r\nX-Injected: 1' }).option).toBe('cookie.domain')
    expect(refusal({ path: '/;evil' }).option).toBe('cookie.path')
  })

  it('checks the type of every cookie option, and refuses unknown ones', () => {
    const wrong = (cookie: object) => refusal(cookie as CookieOptions)
    expect(wrong({ httpOnly: 'no' })).toEqual({
      option: 'cookie.httpOnly',
      message: 'Session option "cookie.httpOnly" must be true or false, not "no".',
    })
    expect(wrong({ secure: 'Auto' }).message).toBe(
      `Session option "cookie.secure" must be true, false or 'auto', not "Auto".`,
    )
    expect(wrong({ sameSite: 'Auto' }).message).toBe(
      `Session option "cookie.sameSite" must be 'lax', 'strict', 'none' or 'auto', not "Auto".`,
    )
    expect(wrong({ sameSite: 'Lax' }).option).toBe('cookie.sameSite')
    expect(wrong({ name: '' }).message).toBe(
      'Session option "cookie.name" must be a non-empty string, not "".',
    )
    expect(wrong({ partitioned: 1 }).option).toBe('cookie.partitioned')
    expect(wrong({ priority: 'urgent' }).message).toBe(
      `Session option "cookie.priority" must be 'low', 'medium' or 'high', not "urgent".`,
    )
    expect(wrong({ httpOnyl: false })).toEqual({
      option: 'cookie.httpOnyl',
      message: 'Unknown Session option "cookie.httpOnyl": did you mean "cookie.httpOnly"?',
    })
    expect(wrong({ expires: new Date() }).message).toBe(
      'Unknown Session option "cookie.expires": the options are cookie.name, cookie.path, cookie.domain, cookie.secure, cookie.httpOnly, cookie.sameSite, cookie.partitioned, cookie.maxAge, cookie.priority.',
    )
  })

  it('takes a function as the cookie options per request, never naming the cookie after it', async () => {
    function cookieCallback() {
      return { secure: false }
    }
    const withSession = sessionMiddleware({
      secretKey: SECRET,
      store: new MemoryStore(),
      cookie: cookieCallback,
    })
    const response = await withSession(new Request('https://app.test/'), async (request) => {
      await getSession(request).set('x', 1)
      return new Response('ok')
    })
    const [header] = response.headers.getSetCookie()
    expect(header).toMatch(/^sid=/)
    expect(header).not.toContain('Secure')
  })
})

describe('cookie.priority', () => {
  it('sets the Priority attribute, which keeps the session cookie when a full jar evicts', async () => {
    const { cookie } = await app(new MemoryStore(), { cookie: { priority: 'high' } }).send(
      async (request) => {
        await getSession(request).set('x', 1)
        return new Response('ok')
      },
    )
    expect(cookie?.header).toMatch(/; Priority=High(;|$)/)
    expect(createSessionCookie({ priority: 'low' }).expire()).toContain('; Priority=Low')
    expect(createSessionCookie({ priority: 'medium' }).serialize('v')).toContain('; Priority=Medium')
    expect(createSessionCookie().serialize('v')).not.toContain('Priority')
  })
})

describe('session timing options are validated when the middleware is made', () => {
  const make = (options: object) => () =>
    sessionMiddleware({ secretKey: SECRET, store: new MemoryStore(), ...options })

  it('needs whole, positive seconds and touchAfter below maxStale', () => {
    expect(make({ maxStale: 0 })).toThrow(/"maxStale"/)
    expect(make({ maxAge: -1 })).toThrow(/"maxAge"/)
    expect(make({ maxStale: 60, touchAfter: 60 })).toThrow(/"touchAfter".*"maxStale"/)
    expect(make({ maxStale: 60, touchAfter: 0 })).not.toThrow()
  })

  it('needs a store', () => {
    // @ts-expect-error: the option is missing on purpose
    expect(() => sessionMiddleware({ secretKey: SECRET })).toThrow(/"store"/)
  })
})
