// Protocol-aware and per-request cookie options, over real HTTP and HTTPS (a self-signed
// certificate made for this run) against DynamoDB Local: express-session's `secure: 'auto'`,
// `sameSite: 'auto'`, `proxy` and function-valued `cookie` cases, and Rack's lambda `same_site`.

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDynamoDBSessionStorage } from '../../src/adapters/react-router-storage.ts'
import {
  COOKIE_RESULTS_KEPT,
  type CookieOptions,
  type CookieOptionsFor,
  createCookieChooser,
} from '../../src/core/cookie.ts'
import { ConfigError, type SessionOptions, type Store, sessionMiddleware } from '../../src/index.ts'
import { count, dynamoStore, SECRET } from '../support/harness.ts'

/** A certificate for 127.0.0.1 and the hosts below, made once for this file's HTTPS server and trusted by its client. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cookie-auto-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:a.test,DNS:b.test,DNS:c.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

type Visit = { status: number; body: string; setCookie: string | undefined; cookieValue: string | undefined }

let tls: { key: string; cert: string }
let store: Store
const bases = { http: '', https: '' }
const servers: { close: () => void }[] = []
/** Each app under test, by the first segment of its paths: /auto/count. */
const apps = new Map<string, ReturnType<typeof sessionMiddleware>>()
/** What a handler threw: a bad cookie function's ConfigError surfaces here and as a 500. */
const thrown: unknown[] = []

/** Every app, on one plain-HTTP and one HTTPS server; /<app>/count counts, /<app>/read reads. */
async function route(request: Request): Promise<Response> {
  const [, name = '', action = ''] = new URL(request.url).pathname.split('/')
  const withSession = apps.get(name)
  if (!withSession) return new Response('no such app', { status: 404 })
  try {
    return await withSession(request, async (request) => {
      if (action === 'count') return count(request)
      return new Response('not used')
    })
  } catch (error) {
    thrown.push(error)
    return new Response((error as Error).message, { status: 500 })
  }
}

function addApp(name: string, options: Partial<SessionOptions>): void {
  apps.set(name, sessionMiddleware({ secretKey: SECRET, store, ...options }))
}

async function listen(secure: boolean): Promise<string> {
  const server = secure
    ? serve({
        fetch: route,
        port: 0,
        hostname: '127.0.0.1',
        createServer: createHttpsServer,
        serverOptions: { key: tls.key, cert: tls.cert },
      })
    : serve({ fetch: route, port: 0, hostname: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  servers.push({ close: () => server.close() })
  return `${secure ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/**
 * One request over the wire (node:http, so that Host can be set): the Set-Cookie of the cookie
 * named `name`, if the response has one.
 */
function visit(
  url: string,
  { headers = {}, name = 'sid' }: { headers?: Record<string, string>; name?: string } = {},
): Promise<Visit> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const outgoing = send(url, { headers, ca: tls.cert }, (incoming) => {
      let body = ''
      incoming.setEncoding('utf8')
      incoming.on('data', (chunk: string) => {
        body += chunk
      })
      incoming.on('end', () => {
        const setCookie = (incoming.headers['set-cookie'] ?? []).find((line) => line.startsWith(`${name}=`))
        const cookieValue = setCookie?.slice(name.length + 1, setCookie.indexOf(';'))
        resolve({ status: incoming.statusCode ?? 0, body, setCookie, cookieValue })
      })
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}

/** The attributes of a Set-Cookie line, lower-cased names: `{ secure: '', samesite: 'None' }`. */
function attributesOf(setCookie: string | undefined): Record<string, string> {
  expect(setCookie, 'a Set-Cookie for the session').toBeDefined()
  const [, ...attributes] = (setCookie ?? '').split(';').map((part) => part.trim())
  return Object.fromEntries(
    attributes.map((attribute) => {
      const [key = '', value = ''] = attribute.split('=')
      return [key.toLowerCase(), value]
    }),
  )
}

beforeAll(async () => {
  tls = selfSignedCertificate()
  ;({ store } = await dynamoStore())
  bases.http = await listen(false)
  bases.https = await listen(true)
})

afterAll(() => {
  for (const server of servers) server.close()
})

describe("cookie.secure: 'auto' decides Secure per request (express-session's secure: 'auto' and proxy)", () => {
  beforeAll(() => {
    addApp('auto', { cookie: { secure: 'auto' } })
    addApp('proxied', { cookie: { secure: 'auto' }, trustProxy: true })
  })

  it('sets Secure over https:, and the session continues there', async () => {
    const first = await visit(`${bases.https}/auto/count`)
    expect(attributesOf(first.setCookie)).toHaveProperty('secure')
    const second = await visit(`${bases.https}/auto/count`, {
      headers: { cookie: `sid=${first.cookieValue}` },
    })
    expect(second.body).toBe('2')
  })

  it('leaves Secure off over plain http:, where the session continues too', async () => {
    const first = await visit(`${bases.http}/auto/count`)
    expect(attributesOf(first.setCookie)).not.toHaveProperty('secure')
    expect(attributesOf(first.setCookie)).toMatchObject({ samesite: 'Lax', path: '/' })
    const second = await visit(`${bases.http}/auto/count`, {
      headers: { cookie: `sid=${first.cookieValue}` },
    })
    expect(second.body).toBe('2')
  })

  it('ignores X-Forwarded-Proto and Forwarded without trustProxy: any client can send them', async () => {
    for (const headers of [{ 'x-forwarded-proto': 'https' }, { forwarded: 'for=192.0.2.60;proto=https' }]) {
      const { setCookie } = await visit(`${bases.http}/auto/count`, { headers })
      expect(attributesOf(setCookie)).not.toHaveProperty('secure')
    }
  })

  it('with trustProxy, sets Secure when X-Forwarded-Proto says https, the first of a list counting', async () => {
    for (const proto of ['https', 'HTTPS', 'https, http', 'https,http']) {
      const { setCookie } = await visit(`${bases.http}/proxied/count`, {
        headers: { 'x-forwarded-proto': proto },
      })
      expect(attributesOf(setCookie), proto).toHaveProperty('secure')
    }
  })

  it('with trustProxy, leaves Secure off when the proxy says http, or says nothing', async () => {
    for (const headers of [{ 'x-forwarded-proto': 'http' }, { 'x-forwarded-proto': 'http, https' }, {}]) {
      const { setCookie } = await visit(`${bases.http}/proxied/count`, { headers })
      expect(attributesOf(setCookie), JSON.stringify(headers)).not.toHaveProperty('secure')
    }
  })

  it("with trustProxy, reads Forwarded's first element when there is no X-Forwarded-Proto", async () => {
    const secure = async (forwarded: string) =>
      'secure' in
      attributesOf((await visit(`${bases.http}/proxied/count`, { headers: { forwarded } })).setCookie)
    expect(await secure('for=192.0.2.60;proto=https;by=203.0.113.43')).toBe(true)
    expect(await secure('for="[2001:db8:cafe::17]:4711";Proto="https"')).toBe(true)
    expect(await secure('for=192.0.2.43;proto=http, for=198.51.100.17;proto=https')).toBe(false)
    expect(await secure('for="a,b";proto=http, for=198.51.100.17;proto=https')).toBe(false)
    expect(await secure('for=192.0.2.43')).toBe(false)
  })

  it('never downgrades an https: request: a proxy header saying http leaves Secure on', async () => {
    const { setCookie } = await visit(`${bases.https}/proxied/count`, {
      headers: { 'x-forwarded-proto': 'http' },
    })
    expect(attributesOf(setCookie)).toHaveProperty('secure')
  })
})

describe("cookie.sameSite: 'auto' is None over TLS and Lax over plain HTTP (express-session's sameSite 'auto')", () => {
  beforeAll(() => {
    addApp('samesite', { cookie: { secure: 'auto', sameSite: 'auto' }, trustProxy: true })
    addApp('samesite-secure', { cookie: { sameSite: 'auto' } })
  })

  it('sets SameSite=None and Secure over https:', async () => {
    expect(attributesOf((await visit(`${bases.https}/samesite/count`)).setCookie)).toMatchObject({
      samesite: 'None',
      secure: '',
    })
  })

  it('sets SameSite=Lax without Secure over plain http:', async () => {
    const attributes = attributesOf((await visit(`${bases.http}/samesite/count`)).setCookie)
    expect(attributes.samesite).toBe('Lax')
    expect(attributes).not.toHaveProperty('secure')
  })

  it('follows a trusted proxy that says https', async () => {
    const { setCookie } = await visit(`${bases.http}/samesite/count`, {
      headers: { 'x-forwarded-proto': 'https' },
    })
    expect(attributesOf(setCookie)).toMatchObject({ samesite: 'None', secure: '' })
  })

  it('keeps the default secure: true over plain http:, with SameSite=Lax', async () => {
    expect(attributesOf((await visit(`${bases.http}/samesite-secure/count`)).setCookie)).toMatchObject({
      samesite: 'Lax',
      secure: '',
    })
  })
})

describe("'auto' is checked at factory time for both protocols", () => {
  const refusal = (cookie: CookieOptions) => {
    try {
      sessionMiddleware({ secretKey: SECRET, store, cookie })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      return { option: (error as ConfigError).option, message: (error as Error).message }
    }
    throw new Error(`${JSON.stringify(cookie)} was accepted`)
  }

  it('refuses what browsers would drop over plain HTTP, saying why', () => {
    expect(refusal({ name: '__Host-sid', secure: 'auto' })).toEqual({
      option: 'cookie.secure',
      message:
        `Session option "cookie.secure" must be true for a "__Host-" cookie ("__Host-sid") (secure: 'auto' leaves it off ` +
        'over plain HTTP, where browsers would then drop this cookie; set secure: true).',
    })
    expect(refusal({ name: '__Secure-sid', secure: 'auto' }).option).toBe('cookie.secure')
    expect(refusal({ sameSite: 'none', secure: 'auto' }).message).toMatch(/sameSite: 'none'.*secure: 'auto'/)
    expect(refusal({ partitioned: true, secure: 'auto' }).message).toMatch(/partitioned.*secure: 'auto'/)
  })

  it("refuses sameSite: 'auto' with secure: false, which would be SameSite=None without Secure over TLS", () => {
    expect(refusal({ sameSite: 'auto', secure: false })).toEqual({
      option: 'cookie.secure',
      message:
        `Session option "cookie.secure" must be true with sameSite: 'none': browsers drop such a cookie otherwise ` +
        `(sameSite: 'auto' is 'none' over HTTPS).`,
    })
  })

  it('accepts the combinations that hold over both', () => {
    for (const cookie of [
      { name: '__Host-sid', sameSite: 'auto' },
      { secure: 'auto', sameSite: 'auto', partitioned: false },
      { secure: true, sameSite: 'auto', partitioned: true },
    ] as CookieOptions[]) {
      expect(() => sessionMiddleware({ secretKey: SECRET, store, cookie })).not.toThrow()
    }
  })
})

describe("cookie as a function of the request (express-session's function-valued cookie)", () => {
  let calls = 0
  const perHost: CookieOptionsFor = (request) => {
    calls++
    const host = new URL(request.url).hostname
    const tenant = host.split('.')[0] ?? 'x'
    if (request.headers.has('x-bad-cookie')) return { sameSite: 'sometimes' } as unknown as CookieOptions
    if (request.headers.has('x-promise')) return Promise.resolve({}) as unknown as CookieOptions
    return { name: `${tenant}_sid`, domain: host, secure: 'auto' }
  }
  beforeAll(() => addApp('hosts', { cookie: perHost }))

  it('serves one app on several domains: each host its own cookie name and Domain, read back by that name', async () => {
    const a = await visit(`${bases.https}/hosts/count`, { headers: { host: 'a.test' }, name: 'a_sid' })
    expect(attributesOf(a.setCookie)).toMatchObject({ domain: 'a.test', secure: '' })
    const again = await visit(`${bases.https}/hosts/count`, {
      headers: { host: 'a.test', cookie: `a_sid=${a.cookieValue}` },
      name: 'a_sid',
    })
    expect(again.body).toBe('2')

    // b.test reads b_sid only: a's cookie, even sent there, is not its session.
    const b = await visit(`${bases.http}/hosts/count`, {
      headers: { host: 'b.test', cookie: `a_sid=${a.cookieValue}` },
      name: 'b_sid',
    })
    expect(b.body).toBe('1')
    expect(attributesOf(b.setCookie)).toMatchObject({ domain: 'b.test' })
    expect(attributesOf(b.setCookie)).not.toHaveProperty('secure') // its result's 'auto', over http:
  })

  it('is called once per request, before the cookie is read, though open and commit both need it', async () => {
    const before = calls
    const { body } = await visit(`${bases.http}/hosts/count`, { headers: { host: 'c.test' }, name: 'c_sid' })
    expect(body).toBe('1')
    expect(calls - before).toBe(1)
  })

  it('checks each result: a wrong one is a ConfigError naming the option, not a cookie', async () => {
    const { status, body, setCookie } = await visit(`${bases.http}/hosts/count`, {
      headers: { host: 'a.test', 'x-bad-cookie': '1' },
      name: 'a_sid',
    })
    expect(status).toBe(500)
    expect(setCookie).toBeUndefined()
    expect(body).toBe(
      `Session option "cookie(request).sameSite" must be 'lax', 'strict', 'none' or 'auto', not "sometimes".`,
    )
    expect(thrown.at(-1)).toBeInstanceOf(ConfigError)
  })

  it('refuses a Promise: the name must be known before the cookie is read', async () => {
    const { status, body } = await visit(`${bases.http}/hosts/count`, { headers: { 'x-promise': '1' } })
    expect(status).toBe(500)
    expect(body).toBe(
      'Session option "cookie(request)" returned a Promise: the cookie function must return its options synchronously.',
    )
  })
})

describe('the checked results of a cookie function are kept, a bounded number of them', () => {
  const request = (domain: string) => new Request('https://app.test/', { headers: { 'x-domain': domain } })

  it('builds one cookie per distinct result, whatever the order of its options, and forgets the oldest', () => {
    let calls = 0
    const cookieFor = createCookieChooser((request) => {
      calls++
      const domain = request.headers.get('x-domain') ?? ''
      // Alternate the key order, and an undefined (not given) option: still one cache entry.
      return calls % 2
        ? { domain, sameSite: 'lax' }
        : ({ sameSite: 'lax', domain, maxAge: undefined } as unknown as CookieOptions)
    })
    const first = cookieFor(request('a.test'))
    expect(cookieFor(request('a.test'))).toBe(first)
    const one = request('b.test')
    expect(cookieFor(one)).toBe(cookieFor(one))
    expect(calls).toBe(3) // the same request asks once

    for (let index = 0; index < COOKIE_RESULTS_KEPT; index++) cookieFor(request(`host${index}.test`))
    const rebuilt = cookieFor(request('a.test'))
    expect(rebuilt).not.toBe(first)
    expect(rebuilt.serialize('v')).toBe(first.serialize('v'))
  })

  it('does not keep a wrong result: it is refused every time', () => {
    const cookieFor = createCookieChooser(() => ({ maxAge: -1 }))
    expect(() => cookieFor(request('a.test'))).toThrow(/"cookie\(request\)\.maxAge"/)
    expect(() => cookieFor(request('a.test'))).toThrow(ConfigError)
  })
})

describe("Rack's lambda same_site: SameSite chosen per request", () => {
  // iOS 12 and macOS 10.14 Safari take SameSite=None as Strict (WebKit bug 198181).
  const mishandlesNone = (userAgent: string) =>
    /\(iP.+; CPU .*OS 12[_\d]* like Mac OS X\)/.test(userAgent) ||
    /\(Macintosh;.*Mac OS X 10_14[_\d]*\).*Version\/.*Safari/.test(userAgent)
  beforeAll(() =>
    addApp('rack', {
      cookie: (request) => ({
        sameSite: mishandlesNone(request.headers.get('user-agent') ?? '') ? 'lax' : 'none',
      }),
    }),
  )

  it('sends SameSite=None to browsers that honour it and Lax to those that would read None as Strict', async () => {
    const modern = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36'
    const ios12 =
      'Mozilla/5.0 (iPhone; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1'
    const sameSite = async (userAgent: string) =>
      attributesOf(
        (await visit(`${bases.https}/rack/count`, { headers: { 'user-agent': userAgent } })).setCookie,
      ).samesite
    expect(await sameSite(modern)).toBe('None')
    expect(await sameSite(ios12)).toBe('Lax')
  })
})

describe('genid and defer are not offered (docs/security.md says why)', () => {
  it('refuses both as unknown options, at factory time', () => {
    for (const option of ['genid', 'defer']) {
      const make = () =>
        sessionMiddleware({ secretKey: SECRET, store, [option]: option === 'defer' ? true : () => 'id' })
      expect(make).toThrow(ConfigError)
      expect(make).toThrow(`Unknown Session option "${option}"`)
    }
  })
})

describe("React Router's storage, whose commitSession() gets no request", () => {
  it("refuses 'auto', a cookie function and trustProxy instead of silently taking plain HTTP's answer", () => {
    const refused = (options: object) => () =>
      createDynamoDBSessionStorage({ secretKey: SECRET, store, ...options })
    expect(refused({ cookie: { secure: 'auto' } })).toThrow(
      `createDynamoDBSessionStorage option "cookie.secure" cannot be 'auto': React Router's commitSession() is given no request to decide it by.`,
    )
    expect(refused({ cookie: { sameSite: 'auto' } })).toThrow(/"cookie.sameSite" cannot be 'auto'/)
    expect(refused({ cookie: () => ({}) })).toThrow(/"cookie" cannot be a function/)
    expect(refused({ trustProxy: true })).toThrow(ConfigError)
    expect(refused({ cookie: { secure: true, sameSite: 'none' } })).not.toThrow()
  })
})
