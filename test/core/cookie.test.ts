import { describe, expect, it } from 'vitest'
import {
  type CookieOptions,
  createSessionCookie,
  MAX_COOKIE_AGE,
  MAX_SESSION_COOKIES,
} from '../../src/core/cookie.ts'
import { getSession, MemoryStore, sessionMiddleware } from '../../src/index.ts'
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

  it('enforces the __Host- prefix rules: Secure, Path=/, no Domain', () => {
    expect(make({ name: '__Host-sid', secure: false })).toThrow(/__Host-.*secure/)
    expect(make({ name: '__Host-sid', path: '/app' })).toThrow(/__Host-.*path/)
    expect(make({ name: '__Host-sid', domain: 'example.com' })).toThrow(/__Host-.*domain/)
    expect(make({ name: '__Host-sid' })).not.toThrow()
  })

  it('enforces the __Secure- prefix rule: Secure', () => {
    expect(make({ name: '__Secure-sid', secure: false })).toThrow(/__Secure-.*secure/)
    expect(make({ name: '__Secure-sid', domain: 'example.com' })).not.toThrow()
  })

  it('enforces the prefix rules whatever the case of the prefix, as browsers do', () => {
    expect(make({ name: '__host-sid', secure: false })).toThrow(/__Host-.*secure/)
    expect(make({ name: '__HOST-sid', path: '/app' })).toThrow(/__Host-.*path/)
    expect(make({ name: '__secure-sid', secure: false })).toThrow(/__Secure-.*secure/)
  })

  it('needs Secure for Partitioned and for SameSite=None', () => {
    expect(make({ partitioned: true, secure: false })).toThrow(/partitioned.*secure/)
    expect(make({ sameSite: 'none', secure: false })).toThrow(/sameSite.*secure/)
  })

  it('caps Max-Age at 400 days', () => {
    expect(make({ maxAge: MAX_COOKIE_AGE + 1 })).toThrow(/400 days/)
    expect(make({ maxAge: 0 })).toThrow(/maxAge/)
    expect(make({ maxAge: 1.5 })).toThrow(/maxAge/)
    expect(make({ maxAge: MAX_COOKIE_AGE })).not.toThrow()
  })

  it('rejects names and attributes that would break the header', () => {
    expect(make({ name: 'bad;name' })).toThrow(/Invalid session cookie options/)
    expect(make({ domain: 'example.com\r\nX-Injected: 1' })).toThrow(/Invalid session cookie options/)
    expect(make({ path: '/;evil' })).toThrow(/Invalid session cookie options/)
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
