import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashSessionId } from '../../src/core/crypto.ts'
import {
  createTable,
  DynamoDBStore,
  getSession,
  listUserSessions,
  MemoryStore,
  type SessionOptions,
  type Store,
  sessionMiddleware,
} from '../../src/index.ts'
import { localClient, uniqueTableName } from '../support/dynamodb.ts'
import { app, at, count, dynamoStore, epoch, readCount, SECRET, useFixedClock } from '../support/harness.ts'

const DAY = 24 * 60 * 60

/** The Max-Age of a Set-Cookie header, or undefined when it has none (a browser-session cookie). */
function maxAge(header: string | undefined): number | undefined {
  const match = header?.match(/Max-Age=(\d+)/)
  return match ? Number(match[1]) : undefined
}

const stores: Array<[string, () => Promise<{ store: Store; calls?: () => string[] }>]> = [
  ['MemoryStore', async () => ({ store: new MemoryStore() })],
  [
    'DynamoDB Local',
    async () => {
      const env = await dynamoStore()
      return { store: env.store, calls: () => env.counter.calls }
    },
  ],
]

describe.each(stores)('per-session expiry, on %s', (_, makeStore) => {
  useFixedClock()

  const setExpiry =
    (
      expiry: Parameters<ReturnType<typeof getSession>['setExpiry']>[0],
      more?: (request: Request) => Promise<void>,
    ) =>
    async (request: Request) => {
      const session = getSession(request)
      await session.setExpiry(expiry)
      await session.set('user', 'ada')
      await more?.(request)
      return new Response(String((await session.expiresAt())?.getTime()))
    }

  it('gives an idle expiry a cookie Max-Age that matches it, and stores that expiry', async () => {
    const { store } = await makeStore()
    const sessions = app(store, { maxStale: 600 })
    const { cookie, body } = await sessions.send(setExpiry({ idle: 30 * DAY }))
    expect(maxAge(cookie?.header)).toBe(30 * DAY)
    expect(Number(body)).toBe((epoch(0) + 30 * DAY) * 1000)
    expect((await store.load(await hashSessionId(cookie?.id ?? '')))?.expiresAt).toBe(epoch(30 * DAY))
    // Past the middleware's maxStale, the session's own idle expiry keeps it, and the cookie slides.
    at(10 * DAY)
    const later = await sessions.send(
      async (request) => new Response(String(await getSession(request).get('user'))),
      cookie?.value,
    )
    expect(later.body).toBe('ada')
    expect(maxAge(later.cookie?.header)).toBe(30 * DAY)
  })

  it('gives an absolute expiry a cookie that lasts until then, and ends the session then however active', async () => {
    const { store } = await makeStore()
    const sessions = app(store)
    const { cookie } = await sessions.send(setExpiry({ at: new Date((epoch(0) + 3 * DAY) * 1000) }))
    expect(maxAge(cookie?.header)).toBe(3 * DAY)
    at(3 * DAY - 10)
    expect((await sessions.send(count, cookie?.value)).body).toBe('1')
    at(3 * DAY)
    const ended = await sessions.send(readCount, cookie?.value)
    expect(ended.body).toBe('0')
    expect(ended.cookie?.header).toMatch(/Max-Age=0/)
  })

  it('never lets an absolute expiry outlast maxAge', async () => {
    const { store } = await makeStore()
    const { cookie, body } = await app(store, { maxAge: DAY }).send(
      setExpiry({ at: new Date((epoch(0) + 9 * DAY) * 1000) }),
    )
    expect(maxAge(cookie?.header)).toBe(DAY)
    expect(Number(body)).toBe((epoch(0) + DAY) * 1000)
  })

  it("sends a browser-session cookie for 'browser', whatever the cookie options say", async () => {
    const { store } = await makeStore()
    const { cookie } = await app(store, { cookie: { maxAge: 7 * DAY } }).send(setExpiry('browser'))
    expect(cookie?.header).toBeDefined()
    expect(maxAge(cookie?.header)).toBeUndefined()
  })

  it('keeps the choice on later requests without the handler repeating it, and renews the cookie as it slides', async () => {
    const { store } = await makeStore()
    const sessions = app(store, { touchAfter: 60 })
    const { cookie } = await sessions.send(setExpiry({ idle: 3600 }))
    at(30) // within touchAfter: no write, no cookie
    expect((await sessions.send(readCount, cookie?.value)).cookie).toBeUndefined()
    at(120) // touched: the expiry slides and the cookie follows it
    const touched = await sessions.send(readCount, cookie?.value)
    expect(maxAge(touched.cookie?.header)).toBe(3600)
    expect((await store.load(await hashSessionId(cookie?.id ?? '')))?.expiresAt).toBe(epoch(120 + 3600))
  })

  it('changes the kind of expiry on a later request, and a shorter one takes effect at once', async () => {
    const { store } = await makeStore()
    const sessions = app(store)
    const { cookie } = await sessions.send(setExpiry({ idle: 30 * DAY }))
    const browser = await sessions.send(async (request) => {
      await getSession(request).setExpiry('browser')
      return new Response('ok')
    }, cookie?.value)
    expect(browser.cookie?.header).toBeDefined()
    expect(maxAge(browser.cookie?.header)).toBeUndefined()
    const shorter = await sessions.send(async (request) => {
      await getSession(request).setExpiry({ idle: 60 })
      return new Response('ok')
    }, cookie?.value)
    expect(maxAge(shorter.cookie?.header)).toBe(60)
    at(61)
    expect((await sessions.send(readCount, cookie?.value)).cookie?.header).toMatch(/Max-Age=0/)
  })

  it('keeps "remember me" across regenerate(), in either order', async () => {
    const { store } = await makeStore()
    const sessions = app(store)
    for (const regenerateFirst of [true, false]) {
      const { cookie } = await sessions.send(count)
      const login = await sessions.send(async (request) => {
        const session = getSession(request)
        if (regenerateFirst) await session.regenerate()
        await session.setExpiry({ idle: 30 * DAY })
        if (!regenerateFirst) await session.regenerate()
        return new Response('in')
      }, cookie?.value)
      expect(login.cookie?.id).not.toBe(cookie?.id)
      expect(maxAge(login.cookie?.header)).toBe(30 * DAY)
      expect((await store.load(await hashSessionId(login.cookie?.id ?? '')))?.expiresAt).toBe(epoch(30 * DAY))
    }
  })

  it('keepAlive(false): a poll longer than maxStale costs one read and no write each, and the session ends on time', async () => {
    const { store, calls } = await makeStore()
    const sessions = app(store, { maxStale: 600 })
    const { cookie } = await sessions.send(count)
    const poll = async (request: Request) => {
      const session = getSession(request)
      session.keepAlive(false)
      return new Response(String((await session.get('count')) ?? 0))
    }
    for (let second = 100; second < 600; second += 100) {
      at(second)
      calls?.().splice(0)
      const polled = await sessions.send(poll, cookie?.value)
      expect(polled.body).toBe('1')
      expect(polled.cookie).toBeUndefined()
      if (calls) expect(calls()).toEqual(['GetItemCommand'])
    }
    at(600)
    expect((await sessions.send(poll, cookie?.value)).body).toBe('0')
  })

  it('keepAlive(false) still saves what the handler changed, without extending the expiry', async () => {
    const { store } = await makeStore()
    const sessions = app(store, { maxStale: 600 })
    const { cookie } = await sessions.send(count)
    at(300)
    const changed = await sessions.send(async (request) => {
      getSession(request).keepAlive(false)
      return count(request)
    }, cookie?.value)
    expect(changed.body).toBe('2')
    expect((await store.load(await hashSessionId(cookie?.id ?? '')))?.expiresAt).toBe(epoch(600))
  })

  it('refuses bad expiries and the reserved key with clear errors, and hides the expiry from all()', async () => {
    const { store } = await makeStore()
    const { body } = await app(store).send(async (request) => {
      const session = getSession<Record<string, unknown>>(request)
      await expect(session.setExpiry({ idle: 0 })).rejects.toThrow(/idle must be a whole number of seconds/)
      await expect(session.setExpiry({ at: new Date('nope') })).rejects.toThrow(/valid Date/)
      await expect(session.setExpiry('forever' as 'browser')).rejects.toThrow(/\{ idle: seconds \}/)
      await expect(session.set('__expiry__', 1)).rejects.toThrow(/reserved/)
      await session.setExpiry({ idle: 60 })
      await session.set('a', 1)
      return new Response(JSON.stringify([await session.all(), await session.has('__expiry__')]))
    })
    expect(JSON.parse(body)).toEqual([{ a: 1 }, false])
  })

  it('stores nothing for a session given an expiry and no values', async () => {
    const { store, calls } = await makeStore()
    calls?.().splice(0)
    const { cookie, body } = await app(store).send(async (request) => {
      const session = getSession(request)
      await session.setExpiry({ idle: 60 })
      return new Response(String(await session.expiresAt()))
    })
    expect(body).toBe('undefined')
    expect(cookie).toBeUndefined()
    if (calls) expect(calls()).toEqual([])
  })
})

describe('per-session expiry and the user index', () => {
  useFixedClock()
  const indexedStores: Array<[string, () => Promise<Store>]> = [
    ['MemoryStore', async () => new MemoryStore()],
    [
      'DynamoDB Local',
      async () => {
        const client = localClient()
        const tableName = uniqueTableName('expiry-users')
        await createTable({ client, tableName, maxWaitTime: 30 })
        return new DynamoDBStore({ client, tableName })
      },
    ],
  ]

  it.each(indexedStores)(
    '%s: reports each session its own expiry in listUserSessions()',
    async (_, makeStore) => {
      const store = await makeStore()
      const sessions = app(store)
      const login = (expiry: { idle: number } | 'browser') =>
        sessions.send(async (request) => {
          const session = getSession(request)
          await session.setUser('grace')
          await session.setExpiry(expiry)
          return new Response('in')
        })
      await login({ idle: 30 * DAY })
      await login('browser')
      const ends = (await listUserSessions(store, 'grace')).map(({ expiresAt }) => expiresAt).sort()
      expect(ends).toEqual([epoch(14 * DAY), epoch(30 * DAY)])
    },
  )
})

describe('"remember me" over HTTP, with a browser that restarts', () => {
  useFixedClock()
  let origin: string
  let close: () => void
  let store: Store

  beforeAll(async () => {
    store = (await dynamoStore()).store
    const options: SessionOptions = { secretKey: SECRET, store, maxStale: DAY, cookie: { secure: false } }
    const withSession = sessionMiddleware(options)
    const server = serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (request) =>
        withSession(request, async (request) => {
          const session = getSession<{ user: string }>(request)
          const url = new URL(request.url)
          if (url.pathname === '/login') {
            await session.regenerate()
            await session.set('user', url.searchParams.get('user') ?? '')
            if (url.searchParams.get('remember') === 'on') await session.setExpiry({ idle: 30 * DAY })
            return new Response('in')
          }
          return new Response((await session.get('user')) ?? 'nobody')
        }),
    })
    await new Promise((resolve) => server.once('listening', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => server.close()
  })
  afterAll(() => close())

  /** A browser's cookie jar: `restart()` drops the cookies that had no Max-Age. */
  function browser() {
    const jar = new Map<string, { value: string; persistent: boolean }>()
    return {
      async get(path: string) {
        const cookie = [...jar].map(([name, { value }]) => `${name}=${value}`).join('; ')
        const response = await fetch(`${origin}${path}`, { headers: cookie ? { cookie } : {} })
        for (const header of response.headers.getSetCookie()) {
          const [pair = ''] = header.split(';')
          const name = pair.slice(0, pair.indexOf('='))
          if (/Max-Age=0/.test(header)) jar.delete(name)
          else jar.set(name, { value: pair.slice(name.length + 1), persistent: /Max-Age=/.test(header) })
        }
        return response.text()
      },
      restart() {
        for (const [name, { persistent }] of jar) if (!persistent) jar.delete(name)
      },
    }
  }

  it('keeps only the user who ticked "remember me" signed in, and each session ends at its own idle time', async () => {
    const remembered = browser()
    const forgotten = browser()
    expect(await remembered.get('/login?user=ada&remember=on')).toBe('in')
    expect(await forgotten.get('/login?user=grace')).toBe('in')
    expect(await forgotten.get('/')).toBe('grace')
    remembered.restart()
    forgotten.restart()
    expect(await remembered.get('/')).toBe('ada')
    expect(await forgotten.get('/')).toBe('nobody')

    // A browser that is never closed keeps grace's cookie, but her session still ends after a
    // day idle, while ada's lasts 30 days idle.
    const open = browser()
    expect(await open.get('/login?user=grace')).toBe('in')
    at(DAY + 1)
    expect(await open.get('/')).toBe('nobody')
    expect(await remembered.get('/')).toBe('ada')
    at(DAY + 1 + 30 * DAY)
    expect(await remembered.get('/')).toBe('nobody')
  })
})
