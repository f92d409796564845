// Issue 12: what a request costs where its session is unused, several cookies of the session's
// name, and remembered unseals that still refuse what they must. Behaviour only, never timing.
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { PutItemCommand } from '@aws-sdk/client-dynamodb'
import fc from 'fast-check'
import { Hono } from 'hono'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type SessionEnv, session } from '../../src/adapters/hono.ts'
import {
  createSessionId,
  importSigningKeys,
  signSessionId,
  verifySignedSessionId,
  verifySignedSessionIdNow,
} from '../../src/core/crypto.ts'
import { getSession, MemoryStore, type SessionError, sessionMiddleware } from '../../src/index.ts'
import { scanAll } from '../support/dynamodb.ts'
import { app, count, dynamoStore, OLD_SECRET, readCount, SECRET } from '../support/harness.ts'

const SUBTLE_METHODS = [
  'importKey',
  'deriveKey',
  'deriveBits',
  'verify',
  'sign',
  'digest',
  'encrypt',
  'decrypt',
]

/** Counts every crypto.subtle call from now on. */
function countWebCrypto() {
  const spies = SUBTLE_METHODS.map((method) => vi.spyOn(crypto.subtle, method as 'digest'))
  return () => spies.reduce((total, spy) => total + spy.mock.calls.length, 0)
}

/** A request whose headers and signal count their reads. */
function watchedRequest(url: string, cookie?: string) {
  const request = new Request(url, cookie === undefined ? {} : { headers: { cookie: `sid=${cookie}` } })
  const reads = { headers: 0, signal: 0 }
  const { headers, signal } = request
  Object.defineProperty(request, 'headers', {
    get: () => {
      reads.headers += 1
      return headers
    },
  })
  Object.defineProperty(request, 'signal', {
    get: () => {
      reads.signal += 1
      return signal
    },
  })
  return { request, reads }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('a session the route never uses', () => {
  it.each([
    ['no cookie (W1)', false],
    ['a session cookie (W5)', true],
  ])(
    'costs no header read, no signal read and no WebCrypto call: fetch middleware, %s',
    async (_, withCookie) => {
      const store = new MemoryStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const withSession = sessionMiddleware({ secretKey: SECRET, store })
      const { request, reads } = watchedRequest(
        'https://app.test/none',
        withCookie ? cookie?.value : undefined,
      )
      const webCrypto = countWebCrypto()
      const response = await withSession(request, () => new Response('no session here'))
      expect(await response.text()).toBe('no session here')
      expect(response.headers.getSetCookie()).toEqual([])
      expect(reads).toEqual({ headers: 0, signal: 0 })
      expect(webCrypto()).toBe(0)
    },
  )

  it('costs no header read, no signal read and no WebCrypto call: Hono adapter, with a session cookie', async () => {
    const store = new MemoryStore()
    const { cookie } = await app(store).send(count)
    const hono = new Hono<SessionEnv>()
    hono.use(session({ secretKey: SECRET, store }))
    hono.get('/none', (c) => c.text('no session here'))
    const { request, reads } = watchedRequest('https://app.test/none', cookie?.value)
    const webCrypto = countWebCrypto()
    const response = await hono.fetch(request)
    expect(await response.text()).toBe('no session here')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(reads).toEqual({ headers: 0, signal: 0 })
    expect(webCrypto()).toBe(0)
  })

  it('reads the cookie on first use: the same session, and no signal read for a read-only request', async () => {
    const store = new MemoryStore()
    const { cookie } = await app(store).send(count)
    const withSession = sessionMiddleware({ secretKey: SECRET, store })
    const { request, reads } = watchedRequest('https://app.test/read', cookie?.value)
    const response = await withSession(request, readCount)
    expect(await response.text()).toBe('1')
    expect(reads.headers).toBe(1)
    expect(reads.signal).toBe(0)
  })

  it('reads the signal once there is something to write, and saves nothing for an aborted request', async () => {
    const store = new MemoryStore()
    const { cookie } = await app(store).send(count)
    const withSession = sessionMiddleware({ secretKey: SECRET, store })
    const controller = new AbortController()
    const request = new Request('https://app.test/write', {
      headers: { cookie: `sid=${cookie?.value}` },
      signal: controller.signal,
    })
    const response = await withSession(request, async (request) => {
      const answer = await count(request)
      controller.abort()
      return answer
    })
    expect(await response.text()).toBe('2')
    expect((await app(store).send(readCount, cookie?.value)).body).toBe('1')
  })
})

describe('session.id read before anything else', () => {
  it("is the cookie's id on a middleware that never saw the cookie, and that cookie's session", async () => {
    const store = new MemoryStore()
    const { cookie } = await app(store).send(count)
    // A second instance: nothing of the first one's checks is remembered.
    const { body } = await app(store).send(async (request) => {
      const session = getSession(request)
      const id = session.id
      return new Response(`${id} ${await session.get('count')}`)
    }, cookie?.value)
    expect(body).toBe(`${cookie?.id} 1`)
  })

  it('is known for a cookie signed by an older secret, which is then re-signed', async () => {
    const store = new MemoryStore()
    const { cookie } = await app(store, { secretKey: OLD_SECRET }).send(count)
    const rotated = await app(store, { secretKey: [SECRET, OLD_SECRET] }).send(async (request) => {
      const session = getSession(request)
      const id = session.id
      await session.get('count')
      return new Response(id)
    }, cookie?.value)
    expect(rotated.body).toBe(cookie?.id)
    expect(rotated.cookie?.id).toBe(cookie?.id)
    expect(rotated.cookie?.value).not.toBe(cookie?.value)
  })

  it('verifies synchronously exactly as WebCrypto does, for every secret of the rotation', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 100 }), { minLength: 1, maxLength: 3 }),
        fc.nat(2),
        fc.boolean(),
        async (secrets, signer, tamper) => {
          const keys = await importSigningKeys(secrets)
          const signed = await signSessionId(createSessionId(), keys[signer % keys.length] as CryptoKey)
          const value = tamper
            ? `${signed.slice(0, -2)}${signed.at(-2) === 'A' ? 'B' : 'A'}${signed.at(-1)}`
            : signed
          expect(verifySignedSessionIdNow(value, secrets)).toEqual(await verifySignedSessionId(value, keys))
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('several cookies of the session name', () => {
  /** A header with each value as a `sid` cookie, in order, and another cookie between. */
  const header = (...values: string[]) => values.map((value) => `sid=${value}`).join('; theme=dark; ')
  const forge = (value: string) => `${value.slice(0, 10)}${value[10] === 'x' ? 'y' : 'x'}${value.slice(11)}`

  async function twoSessions() {
    const env = await dynamoStore()
    const first = await app(env.store).send(count)
    const second = await app(env.store).send(async (request) => {
      await getSession(request).set('count', 41)
      return new Response('ok')
    })
    env.counter.reset()
    return { env, first: first.cookie?.value ?? '', second: second.cookie?.value ?? '' }
  }

  /** Sends a raw Cookie header through a fresh middleware instance (nothing remembered). */
  async function send(env: Awaited<ReturnType<typeof dynamoStore>>, cookieHeader: string) {
    const withSession = sessionMiddleware({ secretKey: SECRET, store: env.store })
    const response = await withSession(
      new Request('https://app.test/', { headers: { cookie: cookieHeader } }),
      readCount,
    )
    return { body: await response.text(), setCookie: response.headers.getSetCookie() }
  }

  it('uses the first that verifies, and a forged one before it never reaches the store', async () => {
    const { env, first, second } = await twoSessions()
    const { body, setCookie } = await send(env, header(forge(first), second, first))
    expect(body).toBe('41')
    expect(setCookie).toEqual([])
    expect(env.counter.count()).toBe(1) // one GetItem: the second cookie's session
  })

  it('uses the first of two valid ones: the one the browser sent first (the longest Path)', async () => {
    const { env, first, second } = await twoSessions()
    expect((await send(env, header(second, first))).body).toBe('41')
    expect((await send(env, header(first, second))).body).toBe('1')
  })

  it('passes over junk and other secrets before the valid one', async () => {
    const { env, second } = await twoSessions()
    const foreign = (await app(new MemoryStore(), { secretKey: OLD_SECRET }).send(count)).cookie?.value ?? ''
    const { body } = await send(env, header('junk', foreign, second))
    expect(body).toBe('41')
    expect(env.counter.count()).toBe(1)
  })

  it('tries at most three: a valid fourth is ignored, nothing is read, and the cookie is cleared', async () => {
    const { env, first, second } = await twoSessions()
    const { body, setCookie } = await send(env, header(forge(first), forge(second), 'junk', second))
    expect(body).toBe('0')
    expect(env.counter.count()).toBe(0)
    expect(setCookie.join()).toContain('Max-Age=0')
  })

  it('re-signs the one that verified under an older secret', async () => {
    const env = await dynamoStore()
    const { cookie } = await app(env.store, { secretKey: OLD_SECRET }).send(count)
    const rotated = sessionMiddleware({ secretKey: [SECRET, OLD_SECRET], store: env.store })
    const response = await rotated(
      new Request('https://app.test/', {
        headers: { cookie: header(forge(cookie?.value ?? ''), cookie?.value ?? '') },
      }),
      readCount,
    )
    expect(await response.text()).toBe('1')
    const [set] = response.headers.getSetCookie()
    expect(set?.startsWith(`sid=${cookie?.id}.`)).toBe(true)
    expect(set).not.toContain(cookie?.value)
  })
})

describe('remembered unseals (encrypt: true)', () => {
  const remember = async (request: Request) => {
    await getSession(request).set('card', '4111 1111 1111 1111')
    return new Response('ok')
  }
  const show = async (request: Request) => new Response(String(await getSession(request).get('card')))

  it('read the same seal again without a WebCrypto call', async () => {
    const store = new MemoryStore()
    const sessions = app(store, { encrypt: true })
    const { cookie } = await sessions.send(remember)
    expect((await sessions.send(show, cookie?.value)).body).toBe('4111 1111 1111 1111')
    const webCrypto = countWebCrypto()
    expect((await sessions.send(show, cookie?.value)).body).toBe('4111 1111 1111 1111')
    expect(webCrypto()).toBe(0)
  })

  it('still refuse a tampered seal, and a seal of a retired secret', async () => {
    const env = await dynamoStore()
    const reports: string[] = []
    const onError = (error: SessionError, _request: Request, phase: string) => {
      reports.push(`${error.code} ${phase}`)
      return undefined
    }
    const sealing = app(env.store, { encrypt: true, secretKey: [SECRET, OLD_SECRET], onError })
    const { cookie } = await app(env.store, { encrypt: true, secretKey: OLD_SECRET }).send(remember)
    // Remembered by the middleware that then meets the tampered seal; the cookie comes back
    // re-signed by the newest secret, while the value stays sealed by the old one (no write due).
    const rotated = await sealing.send(show, cookie?.value)
    expect(rotated.body).toBe('4111 1111 1111 1111')

    const [item] = await scanAll(env.client, env.tableName)
    const card = (item as Record<string, AttributeValue>).data?.M?.card as AttributeValue.SMember
    const original = card.S
    card.S = original.replace(/\*(\w)/, (_, first) => `*${first === 'a' ? 'b' : 'a'}`)
    await env.client.send(new PutItemCommand({ TableName: env.tableName, Item: item }))
    expect((await sealing.send(show, cookie?.value)).body).toBe('undefined')

    card.S = original
    await env.client.send(new PutItemCommand({ TableName: env.tableName, Item: item }))
    expect((await sealing.send(show, cookie?.value)).body).toBe('4111 1111 1111 1111')
    const retired = app(env.store, { encrypt: true, secretKey: SECRET, onError })
    expect((await retired.send(show, rotated.cookie?.value)).body).toBe('undefined')
    expect(reports).toEqual(['SESSION_UNREADABLE unseal', 'SESSION_UNREADABLE unseal'])
  })
})
