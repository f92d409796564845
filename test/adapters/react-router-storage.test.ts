// createDynamoDBSessionStorage against DynamoDB Local: React Router's own session-storage
// contract (its tests of createSessionStorage and createCookieSessionStorage in
// packages/react-router/__tests__/server-runtime/sessions-test.ts, re-expressed), then what this
// storage adds: key-level writes, no resurrection, hashed ids, clear errors.
import { createElement as h } from 'react'
import { createRequestHandler, isSession, Outlet, redirect } from 'react-router'
import { beforeEach, describe, expect, it } from 'vitest'
import { serverBuild } from '../../examples/react-router/build.ts'
import {
  createDynamoDBSessionStorage,
  type DynamoDBSessionStorageOptions,
  sessionContext,
  sessionMiddleware,
} from '../../src/adapters/react-router.ts'
import {
  getSession as getMiddlewareSession,
  MemoryStore,
  type SessionRecord,
  SessionStoreError,
} from '../../src/index.ts'
import { CookieJar } from '../support/cookie-jar.ts'
import { scanAll } from '../support/dynamodb.ts'
import { app, dynamoStore, OLD_SECRET, SECRET } from '../support/harness.ts'

/** The `name=value` part of a Set-Cookie line, as a browser sends it back. */
const cookieOf = (setCookie: string) => setCookie.split(/;\s*/)[0] ?? ''

let table: Awaited<ReturnType<typeof dynamoStore>>
const storage = (options: Partial<DynamoDBSessionStorageOptions> = {}) =>
  createDynamoDBSessionStorage({ secretKey: SECRET, store: table.store, ...options })
const writes = () => table.counter.count('PutItemCommand') + table.counter.count('UpdateItemCommand')

beforeEach(async () => {
  table = await dynamoStore()
})

describe("React Router's session-storage contract", () => {
  it('persists session data across requests', async () => {
    const { getSession, commitSession } = storage()
    let session = await getSession()
    session.set('user', 'mjackson')
    const setCookie = await commitSession(session)
    session = await getSession(cookieOf(setCookie))
    expect(session.get('user')).toEqual('mjackson')
  })

  it('gives a new session an empty id, and a stored one its random 256-bit id', async () => {
    const { getSession, commitSession } = storage()
    let session = await getSession()
    expect(session.id).toBe('')
    session.set('user', 'mjackson')
    session = await getSession(cookieOf(await commitSession(session)))
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('hands out sessions that isSession() recognizes, with flash values readable once', async () => {
    const { getSession, commitSession } = storage()
    let session = await getSession()
    expect(isSession(session)).toBe(true)
    session.set('user', 'mjackson')
    session.flash('error', 'boom')
    // As React Router's own: a flash set in this request is readable once in it, too.
    session = await getSession(cookieOf(await commitSession(session)))
    expect(session.has('error')).toBe(true)
    expect(session.get('error')).toBe('boom')
    expect(session.has('error')).toBe(false)
    expect(session.get('user')).toBe('mjackson') // normal values stay after get()
    session = await getSession(cookieOf(await commitSession(session)))
    expect(session.get('error')).toBeUndefined() // consumed, and the consumption was saved
    expect(session.get('user')).toBe('mjackson')
  })

  it('removes a value with unset()', async () => {
    const { getSession, commitSession } = storage()
    let session = await getSession()
    session.set('user', 'mjackson')
    session.set('theme', 'dark')
    session = await getSession(cookieOf(await commitSession(session)))
    session.unset('user')
    session = await getSession(cookieOf(await commitSession(session)))
    expect(session.has('user')).toBe(false)
    expect(session.get('theme')).toBe('dark')
  })

  it('returns an empty session for cookies that are not signed properly, without reading the table', async () => {
    const { getSession, commitSession } = storage()
    let session = await getSession()
    session.set('user', 'mjackson')
    expect(session.get('user')).toEqual('mjackson')
    const setCookie = await commitSession(session)
    table.counter.reset()
    session = await getSession(cookieOf(setCookie).slice(0, -1)) // tampered
    expect(session.get('user')).toBeUndefined()
    expect(session.id).toBe('')
    expect(table.counter.count('GetItemCommand')).toBe(0)
  })

  it('makes the default path of cookies /', async () => {
    const { getSession, commitSession } = storage()
    const session = await getSession()
    session.set('user', 'mjackson')
    expect(await commitSession(session)).toContain('Path=/')
  })

  it('destroys sessions using a past date, and deletes the item', async () => {
    const { getSession, commitSession, destroySession } = storage({ cookie: { name: 'test' } })
    let session = await getSession()
    session.set('user', 'mjackson')
    const setCookie = await commitSession(session)
    session = await getSession(cookieOf(setCookie))
    // React Router's own expires with the past date alone; this one adds Max-Age=0, which wins.
    expect(await destroySession(session)).toBe(
      'test=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    )
    expect(await scanAll(table.client, table.tableName)).toEqual([])
    expect((await getSession(cookieOf(setCookie))).get('user')).toBeUndefined()
  })

  it("destroys sessions that leverage maxAge with a past date, not the cookie's Max-Age", async () => {
    const { getSession, destroySession } = storage({ cookie: { maxAge: 60 * 60 } })
    const setCookie = await destroySession(await getSession())
    expect(setCookie).toBe(
      '__session=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    )
    expect(await destroySession(await getSession(), { maxAge: 60 })).toContain('Max-Age=0;')
  })

  it('unsigns old cookies with an old secret, and signs new cookies with the new one', async () => {
    const before = storage({ secretKey: OLD_SECRET })
    let session = await before.getSession()
    session.set('user', 'mjackson')
    const setCookie = await before.commitSession(session)

    const rotated = storage({ secretKey: [SECRET, OLD_SECRET] })
    session = await rotated.getSession(cookieOf(setCookie))
    expect(session.get('user')).toEqual('mjackson')
    const setCookie2 = await rotated.commitSession(session)
    expect(setCookie2).not.toEqual(setCookie)
    // Only the new secret is needed from now on.
    expect((await storage({ secretKey: SECRET }).getSession(cookieOf(setCookie2))).get('user')).toBe(
      'mjackson',
    )
  })

  it('keeps data far beyond the 4096-byte cookie limit in the table, the cookie staying small', async () => {
    const { getSession, commitSession } = storage()
    let session = await getSession()
    session.set('over4096bytes', 'a'.repeat(5000))
    const setCookie = await commitSession(session)
    expect(setCookie.length).toBeLessThan(200)
    session = await getSession(cookieOf(setCookie))
    expect(session.get('over4096bytes')).toHaveLength(5000)
  })

  it("applies commitSession's own options, such as a remember-me maxAge", async () => {
    const { getSession, commitSession } = storage()
    const session = await getSession()
    session.set('user', 'mjackson')
    const remembered = await commitSession(session, { maxAge: 30 * 24 * 60 * 60 })
    expect(remembered).toMatch(
      /^__session=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Max-Age=2592000; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    const expires = new Date(Date.UTC(2031, 0, 1))
    const dated = await commitSession(session, { expires })
    expect(dated).toContain('Expires=Wed, 01 Jan 2031 00:00:00 GMT')
  })
})

describe('what createDynamoDBSessionStorage adds to the contract', () => {
  it('writes nothing when a session is committed unchanged, and never adds a second item', async () => {
    const { getSession, commitSession } = storage()
    let session = await getSession()
    session.set('user', 'mjackson')
    session = await getSession(cookieOf(await commitSession(session)))
    table.counter.reset()
    const again = await commitSession(session)
    expect(writes()).toBe(0)
    expect(again).toMatch(/^__session=/) // React Router apps always send what commitSession returns
    session.set('user', 'mjackson') // an equal value is no change
    await commitSession(session)
    expect(writes()).toBe(0)
    expect(await scanAll(table.client, table.tableName)).toHaveLength(1)
  })

  it('writes only the keys that changed: two requests changing different keys both keep their change', async () => {
    const { getSession, commitSession } = storage()
    const first = await getSession()
    first.set('a', 1)
    first.set('b', 1)
    const cookie = cookieOf(await commitSession(first))
    const left = await getSession(cookie)
    const right = await getSession(cookie)
    left.set('a', 2)
    right.set('b', 2)
    await commitSession(left)
    await commitSession(right) // a whole-item put (createArcTableSessionStorage) would undo a=2
    const after = await getSession(cookie)
    expect(after.data).toEqual({ a: 2, b: 2 })
  })

  it('does not resurrect a session destroyed while another request still held it', async () => {
    const { getSession, commitSession, destroySession } = storage()
    const first = await getSession()
    first.set('user', 'mjackson')
    const cookie = cookieOf(await commitSession(first))
    const slow = await getSession(cookie)
    await destroySession(await getSession(cookie)) // logout in another tab
    slow.set('cart', 3)
    await commitSession(slow)
    expect(await scanAll(table.client, table.tableName)).toEqual([])
    expect((await getSession(cookie)).data).toEqual({})
  })

  it('stores the SHA-256 of the id, never the id', async () => {
    const { getSession, commitSession } = storage()
    const session = await getSession()
    session.set('user', 'mjackson')
    const id = (await getSession(cookieOf(await commitSession(session)))).id
    const items = await scanAll(table.client, table.tableName)
    expect(items).toHaveLength(1)
    expect(JSON.stringify(items)).not.toContain(id)
  })

  it('seals values at rest with encrypt: true', async () => {
    const { getSession, commitSession } = storage({ encrypt: true })
    let session = await getSession()
    session.set('card', 'visible-secret-value')
    session = await getSession(cookieOf(await commitSession(session)))
    expect(session.get('card')).toBe('visible-secret-value')
    expect(JSON.stringify(await scanAll(table.client, table.tableName))).not.toContain('visible-secret-value')
  })

  it('shares sessions with sessionMiddleware: flash values cross from one API to the other', async () => {
    const { getSession, commitSession } = storage({ cookie: { name: 'sid', secure: false } })
    const middleware = sessionMiddleware({ secretKey: SECRET, store: table.store, cookie: { secure: false } })
    const build = serverBuild(
      {
        classic: {
          path: 'classic',
          action: async ({ request }) => {
            const session = await getSession(request.headers.get('cookie'))
            session.flash('message', 'saved')
            return redirect('/modern', { headers: { 'set-cookie': await commitSession(session) } })
          },
        },
        modern: {
          path: 'modern',
          loader: async ({ context }) =>
            new Response(String(await context.get(sessionContext).get('message'))),
        },
      },
      { default: () => h(Outlet) },
    )
    const root = build.routes.root
    if (root) root.module = { ...root.module, middleware: [middleware] }
    const handle = createRequestHandler(build, 'production')
    const jar = new CookieJar()
    const send = async (path: string, init: RequestInit = {}) => {
      const response = await handle(
        new Request(`http://app.test${path}`, { ...init, headers: { cookie: jar.header() ?? '' } }),
      )
      jar.take(response.headers.getSetCookie())
      return response
    }
    expect((await send('/classic', { method: 'POST', body: new URLSearchParams() })).status).toBe(302)
    expect(await (await send('/modern')).text()).toBe('saved')
    expect(await (await send('/modern')).text()).toBe('undefined') // read once
  })

  it("hides a session's own expiry (set through the middleware) from session.data, and keeps it on commit", async () => {
    const { getSession, commitSession } = storage({ cookie: { name: 'sid', secure: false } })
    const { cookie } = await app(table.store).send(async (request) => {
      const session = getMiddlewareSession<{ cart: string[] }>(request)
      await session.setExpiry({ idle: 600 })
      await session.set('cart', ['tea'])
      return new Response('ok')
    })
    const session = await getSession(`sid=${cookie?.value}`)
    expect(session.data).toEqual({ cart: ['tea'] })
    session.set('note', 'kept')
    await commitSession(session)
    const [item] = await scanAll(table.client, table.tableName)
    expect(Object.keys(item?.data?.M ?? {}).sort()).toEqual(['__expiry__', 'cart', 'note'])
  })

  it('rejects getSession and commitSession with a SessionStoreError when the store fails', async () => {
    class FailingStore extends MemoryStore {
      failing = false
      override async load(key: string): Promise<SessionRecord | undefined> {
        if (this.failing) throw new Error('store is down')
        return super.load(key)
      }
      override async update(...args: Parameters<MemoryStore['update']>) {
        if (this.failing) throw new Error('store is down')
        return super.update(...args)
      }
    }
    const store = new FailingStore()
    const { getSession, commitSession } = createDynamoDBSessionStorage({ secretKey: SECRET, store })
    const session = await getSession()
    session.set('user', 'mjackson')
    const cookie = cookieOf(await commitSession(session))
    const loaded = await getSession(cookie)
    loaded.set('user', 'someone else')
    store.failing = true
    await expect(getSession(cookie)).rejects.toThrow(SessionStoreError)
    await expect(commitSession(loaded)).rejects.toThrow(SessionStoreError)
  })
})

describe('createDynamoDBSessionStorage options, checked when it is created', () => {
  it("takes React Router's cookie.secrets in place of secretKey", async () => {
    table.counter.reset()
    const { getSession, commitSession } = createDynamoDBSessionStorage({
      store: table.store,
      cookie: { name: '__session', secrets: [SECRET], sameSite: 'strict' },
    })
    const session = await getSession()
    session.set('user', 'mjackson')
    const setCookie = await commitSession(session)
    expect(setCookie).toContain('SameSite=Strict')
    expect((await getSession(cookieOf(setCookie))).get('user')).toBe('mjackson')
  })

  it('refuses a secret given twice, a createCookie() object, a short secret or no secret, saying what to do', () => {
    const store = new MemoryStore()
    expect(() =>
      createDynamoDBSessionStorage({ secretKey: SECRET, store, cookie: { secrets: [SECRET] } }),
    ).toThrow(/give the secret once/)
    const cookieObject = { name: 'x', serialize: async () => '' } as never
    expect(() => createDynamoDBSessionStorage({ secretKey: SECRET, store, cookie: cookieObject })).toThrow(
      /not a createCookie\(\) object/,
    )
    expect(() => createDynamoDBSessionStorage({ store, cookie: { secrets: ['short'] } })).toThrow(
      /at least 32 characters/,
    )
    expect(() => createDynamoDBSessionStorage({ store })).toThrow(/requires the "secretKey" option/)
    expect(() =>
      createDynamoDBSessionStorage({ secretKey: SECRET, store, cookie: { sameSite: 'none', secure: false } }),
    ).toThrow(/"cookie.secure" must be true with sameSite: 'none'/)
  })
})
