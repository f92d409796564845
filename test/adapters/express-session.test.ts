import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import connectDynamoDB from 'connect-dynamodb'
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import session, { type SessionOptions } from 'express-session'
// @ts-expect-error: Express 4 installed under the alias express4 (npm:express@4), which has no types of its own
import express4 from 'express4'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  expressSessionStore,
  type DynamoDBSessionStore as SessionStoreInstance,
} from '../../src/adapters/express-session.ts'
import { hashSessionId } from '../../src/core/crypto.ts'
import {
  createTable,
  DynamoDBStore,
  destroyUserSessions,
  listUserSessions,
  MemoryStore,
} from '../../src/index.ts'
import { createSessionTable, localClient, scanAll, uniqueTableName } from '../support/dynamodb.ts'
import { browser, countingClient, EXPRESS_SECRET, listen } from '../support/express-session.ts'

declare module 'express-session' {
  interface SessionData {
    count: number
    theme: string
    userId: string
    big: string
  }
}

const DynamoDBSessionStore = expressSessionStore(session)
const DAY_MS = 86_400_000
const FOURTEEN_DAYS_MS = 14 * DAY_MS

const raw = localClient()
let dynamodb: Awaited<ReturnType<typeof countingClient>>
let tableName = ''
const closers: (() => Promise<void>)[] = []

beforeAll(async () => {
  dynamodb = await countingClient()
  tableName = uniqueTableName('express')
  // As production makes it: with the user index "log out everywhere" queries.
  await createTable({ client: raw, tableName, maxWaitTime: 30 })
})

afterAll(async () => {
  for (const close of closers.splice(0)) await close()
  await dynamodb.close()
  raw.destroy()
})

function newStore(options: Partial<ConstructorParameters<typeof DynamoDBSessionStore>[0]> = {}) {
  return new DynamoDBSessionStore({
    store: new DynamoDBStore({ client: dynamodb.client, tableName }),
    ...options,
  })
}

/** Set by a test to hold /reload between its read and its reload. */
let reloadHold: { loaded: () => void; release: Promise<void> } | undefined

/** The routes every test uses, on the Express given, with express-session over `store`. */
function routes(
  makeExpress: () => Express,
  store: session.Store,
  options: Partial<SessionOptions> = {},
): Express {
  const app = makeExpress()
  app.use(
    session({
      name: 'sid',
      secret: EXPRESS_SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: FOURTEEN_DAYS_MS, sameSite: 'lax' },
      store,
      ...options,
    }),
  )
  app.get('/count', (req, res) => {
    req.session.count = (req.session.count ?? 0) + 1
    res.send(String(req.session.count))
  })
  app.get('/read', (req, res) => {
    res.send(String(req.session.count ?? 0))
  })
  app.get('/none', (_req, res) => {
    res.send('no session here')
  })
  app.get('/theme', (req, res) => {
    req.session.theme = String(req.query.theme)
    res.send('themed')
  })
  app.get('/slow-count', (req, res) => {
    // Reads, waits while other requests run, then writes: an in-flight request.
    const count = (req.session.count ?? 0) + 1
    setTimeout(
      () => {
        req.session.count = count
        res.send(String(count))
      },
      Number(req.query.ms ?? 300),
    )
  })
  app.post('/login', (req, res, next) => {
    const count = req.session.count
    req.session.regenerate((error) => {
      if (error) return next(error)
      req.session.userId = String(req.query.user)
      if (count !== undefined) req.session.count = count
      res.send('welcome')
    })
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.send('bye')))
  })
  app.get('/reload', async (req, res, next) => {
    const before = req.session.count ?? 0
    // Held here, after reading, until the test has let another request change the session.
    reloadHold?.loaded()
    await reloadHold?.release
    req.session.reload((error) => {
      if (error) return next(error)
      res.send(`${before}->${req.session.count ?? 0}`)
    })
  })
  app.get('/save-twice', (req, res, next) => {
    req.session.count = 1
    req.session.save((error) => {
      if (error) return next(error)
      req.session.theme = 'dark'
      res.send('saved')
    })
  })
  app.get('/forget-theme', (req, res) => {
    delete req.session.theme
    res.send('forgotten')
  })
  app.get('/big', (req, res, next) => {
    req.session.big = 'x'.repeat(500 * 1024)
    // Saved before answering: express-session's own save at res.end() comes after the status line.
    req.session.save((error) => (error ? next(error) : res.send('saved')))
  })
  app.use((error: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).send(`${error.code ?? error.name}: ${error.message}`)
  })
  return app
}

async function serve(app: Express): Promise<string> {
  const server = await listen(app)
  closers.push(server.close)
  return server.base
}

async function storedItem(sid: string) {
  const { Item } = await raw.send(
    new GetItemCommand({ TableName: tableName, Key: { session_id: { S: await hashSessionId(sid) } } }),
  )
  return Item
}

describe.each([
  ['Express 5', () => express()],
  ['Express 4', () => (express4 as typeof express)()],
])('express-session with this store, on %s over HTTP', (_name, makeExpress) => {
  let base = ''
  beforeAll(async () => {
    base = await serve(routes(makeExpress, newStore()))
  })
  afterEach(() => {
    dynamodb.proxy.reset()
  })

  it('counts 1, 2, 3 in one session, stored under the SHA-256 of its id with the cookie expiry', async () => {
    const client = browser(base)
    const first = await client.fetch('/count')
    expect(first.body).toBe('1')
    expect(first.setCookie).toMatch(/^sid=s%3A[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/)
    expect((await client.fetch('/count')).body).toBe('2')
    expect((await client.fetch('/count')).body).toBe('3')
    expect((await client.fetch('/read')).body).toBe('3')
    expect((await browser(base).fetch('/count')).body).toBe('1') // no cookie: a new session

    const sid = client.sid ?? ''
    const item = await storedItem(sid)
    expect(item?.session_id?.S).toBe(await hashSessionId(sid))
    expect(item?.session_id?.S).not.toContain(sid)
    expect(JSON.stringify(item)).not.toContain(sid) // the id is nowhere in the item
    expect(item?.data?.M?.count?.S).toBe('3')
    const expireAt = Number(item?.expire_at?.N)
    expect(Math.abs(expireAt - (Date.now() + FOURTEEN_DAYS_MS) / 1000)).toBeLessThan(5)
    // express-session computes originalMaxAge from the expiry it just set, so a millisecond can pass.
    const { originalMaxAge } = JSON.parse(item?.data?.M?.cookie?.S ?? '{}')
    expect(Math.abs(originalMaxAge - FOURTEEN_DAYS_MS)).toBeLessThanOrEqual(5)
  })

  it('costs one GetItem and no write on a route that never reads the session, and nothing without a cookie', async () => {
    const client = browser(base)
    await client.fetch('/count')
    dynamodb.proxy.reset()
    const known = await client.fetch('/none')
    expect(known.body).toBe('no session here')
    expect(known.setCookie).toBeUndefined()
    expect(dynamodb.calls()).toEqual({ GetItem: 1 }) // the touch is throttled: no write

    dynamodb.proxy.reset()
    const anonymous = await browser(base).fetch('/none')
    expect(anonymous.setCookie).toBeUndefined()
    expect(dynamodb.calls()).toEqual({})
  })

  it('logs in with regenerate: a new id, the old item gone, the user bound for "log out everywhere"', async () => {
    const user = `user-${Math.random().toString(36).slice(2)}`
    const laptop = browser(base)
    await laptop.fetch('/count')
    const anonymousSid = laptop.sid ?? ''
    expect((await laptop.fetch(`/login?user=${user}`, { method: 'POST' })).body).toBe('welcome')
    expect(laptop.sid).not.toBe(anonymousSid)
    expect(await storedItem(anonymousSid)).toBeUndefined()
    expect((await laptop.fetch('/read')).body).toBe('1') // the data carried over by the route
    expect((await storedItem(laptop.sid ?? ''))?.user_id?.S).toBe(user)

    const phone = browser(base)
    await phone.fetch(`/login?user=${user}`, { method: 'POST' })
    await phone.fetch('/count')
    const store = new DynamoDBStore({ client: raw, tableName })
    const sessions = await listUserSessions(store, user)
    expect(sessions.map(({ key }) => key).sort()).toEqual(
      [await hashSessionId(laptop.sid ?? ''), await hashSessionId(phone.sid ?? '')].sort(),
    )
    // Log out everywhere but the laptop.
    expect(await destroyUserSessions(store, user, { except: { id: laptop.sid ?? '' }, settleMs: 0 })).toBe(1)
    expect((await phone.fetch('/read')).body).toBe('0')
    expect((await laptop.fetch('/read')).body).toBe('1')
  })

  it('logs out with destroy, and a request still in flight does not bring the session back', async () => {
    const client = browser(base)
    await client.fetch('/count')
    const sid = client.sid ?? ''
    const slow = client.fetch('/slow-count?ms=400')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await client.fetch('/logout', { method: 'POST' })).body).toBe('bye')
    expect((await slow).body).toBe('2') // it answered, but its save found the session gone
    expect(await storedItem(sid)).toBeUndefined()
    expect((await client.fetch('/read')).body).toBe('0')
  })

  it('keeps both changes of concurrent requests that change different keys', async () => {
    const client = browser(base)
    await client.fetch('/count')
    const [slow, themed] = await Promise.all([
      client.fetch('/slow-count?ms=300'),
      new Promise((resolve) => setTimeout(resolve, 50)).then(() => client.fetch('/theme?theme=dark')),
    ])
    expect(slow.body).toBe('2')
    expect(themed.body).toBe('themed')
    const item = await storedItem(client.sid ?? '')
    expect(item?.data?.M?.count?.S).toBe('2')
    expect(item?.data?.M?.theme?.S).toBe('"dark"')
  })
})

describe("express-session's store-facing behaviours, against this store", () => {
  afterEach(() => {
    dynamodb.proxy.reset()
    vi.useRealTimers()
  })

  it('resave: false, saveUninitialized: false: an unmodified new session is neither stored nor sent', async () => {
    const base = await serve(routes(express, newStore()))
    dynamodb.proxy.reset()
    const response = await browser(base).fetch('/read')
    expect(response.setCookie).toBeUndefined()
    expect(dynamodb.calls()).toEqual({})
  })

  it('saveUninitialized: true stores a new unmodified session with one conditional PutItem', async () => {
    const base = await serve(routes(express, newStore(), { saveUninitialized: true }))
    dynamodb.proxy.reset()
    const client = browser(base)
    expect((await client.fetch('/read')).setCookie).toBeDefined()
    expect(dynamodb.calls()).toEqual({ PutItem: 1 })
    expect(await storedItem(client.sid ?? '')).toBeDefined()
  })

  it('resave: true on an unmodified session writes nothing: the store sees no change and throttles the touch', async () => {
    const base = await serve(routes(express, newStore(), { resave: true }))
    const client = browser(base)
    await client.fetch('/count')
    dynamodb.proxy.reset()
    expect((await client.fetch('/read')).body).toBe('1')
    expect(dynamodb.calls()).toEqual({ GetItem: 1 })
  })

  it('rolling: true sends the cookie on every response while touch writes only once the expiry moves by touchAfter', async () => {
    const base = await serve(routes(express, newStore({ touchAfter: 60 }), { rolling: true }))
    const client = browser(base)
    await client.fetch('/count')
    const before = Number((await storedItem(client.sid ?? ''))?.expire_at?.N)
    dynamodb.proxy.reset()
    expect((await client.fetch('/read')).setCookie).toBeDefined()
    expect(dynamodb.calls()).toEqual({ GetItem: 1 })

    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 61_000)
    dynamodb.proxy.reset()
    expect((await client.fetch('/read')).setCookie).toBeDefined()
    expect(dynamodb.calls()).toEqual({ GetItem: 1, UpdateItem: 1 })
    expect(Number((await storedItem(client.sid ?? ''))?.expire_at?.N)).toBeGreaterThanOrEqual(before + 60)
    dynamodb.proxy.reset()
    await client.fetch('/read')
    expect(dynamodb.calls()).toEqual({ GetItem: 1 }) // moved just now: no second touch
  })

  it('touchAfter defaults to a tenth of cookie.maxAge: a 100 s cookie is touched after 10 s', async () => {
    const base = await serve(routes(express, newStore(), { cookie: { maxAge: 100_000 } }))
    const client = browser(base)
    await client.fetch('/count')
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 5_000)
    dynamodb.proxy.reset()
    await client.fetch('/read')
    expect(dynamodb.calls()).toEqual({ GetItem: 1 })
    vi.setSystemTime(Date.now() + 6_000)
    dynamodb.proxy.reset()
    await client.fetch('/read')
    expect(dynamodb.calls()).toEqual({ GetItem: 1, UpdateItem: 1 })
  })

  it('cookie.maxAge sets the item expiry, which is checked on every read: an expired item is no session', async () => {
    const base = await serve(routes(express, newStore(), { cookie: { maxAge: 60_000 } }))
    const client = browser(base)
    await client.fetch('/count')
    const item = await storedItem(client.sid ?? '')
    expect(Number(item?.expire_at?.N) - Date.now() / 1000).toBeGreaterThan(55)
    expect(Number(item?.expire_at?.N) - Date.now() / 1000).toBeLessThanOrEqual(61)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 61_000)
    // The item is still in the table (TTL deletes late), yet reads as no session.
    expect(await storedItem(client.sid ?? '')).toBeDefined()
    expect((await client.fetch('/read')).body).toBe('0')
  })

  it('a browser-session cookie (no maxAge) keeps its item for ttl seconds', async () => {
    const base = await serve(routes(express, newStore({ ttl: 600 }), { cookie: {} }))
    const client = browser(base)
    const { setCookie } = await client.fetch('/count')
    expect(setCookie).not.toMatch(/Expires/)
    const expireAt = Number((await storedItem(client.sid ?? ''))?.expire_at?.N)
    expect(Math.abs(expireAt - (Date.now() / 1000 + 600))).toBeLessThan(5)
    expect((await client.fetch('/read')).body).toBe('1')
  })

  it('req.session.save() then a change: both are stored, the second as an update of one key', async () => {
    const base = await serve(routes(express, newStore()))
    const client = browser(base)
    dynamodb.proxy.reset()
    await client.fetch('/save-twice')
    expect(dynamodb.calls()).toEqual({ PutItem: 1, UpdateItem: 1 })
    const data = (await storedItem(client.sid ?? ''))?.data?.M
    expect(data?.count?.S).toBe('1')
    expect(data?.theme?.S).toBe('"dark"')
  })

  it('a deleted key is removed from the stored session', async () => {
    const base = await serve(routes(express, newStore()))
    const client = browser(base)
    await client.fetch('/theme?theme=dark')
    await client.fetch('/forget-theme')
    expect((await storedItem(client.sid ?? ''))?.data?.M?.theme).toBeUndefined()
  })

  it("req.session.reload() sees another request's change", async () => {
    const base = await serve(routes(express, newStore()))
    const client = browser(base)
    await client.fetch('/count')
    let loaded = () => {}
    let release = () => {}
    const isLoaded = new Promise<void>((resolve) => {
      loaded = resolve
    })
    reloadHold = { loaded, release: new Promise<void>((resolve) => (release = resolve)) }
    try {
      const reloading = client.fetch('/reload')
      await isLoaded
      await client.fetch('/count')
      release()
      expect((await reloading).body).toBe('1->2')
    } finally {
      reloadHold = undefined
    }
  })

  it("refuses a session over DynamoDB's 400 KB with a clear error and writes nothing", async () => {
    const base = await serve(routes(express, newStore()))
    const client = browser(base)
    await client.fetch('/count')
    dynamodb.proxy.reset()
    const response = await client.fetch('/big')
    expect(response.status).toBe(500)
    expect(response.body).toMatch(/^SESSION_TOO_LARGE: Session item is \d+ bytes, over DynamoDB's 400 KB/)
    expect(dynamodb.calls()).toEqual({ GetItem: 1 })
    expect((await client.fetch('/read')).body).toBe('1')
  })

  it('makes no DescribeTable or CreateTable call on a cold start', async () => {
    const base = await serve(routes(express, newStore()))
    dynamodb.proxy.reset()
    const client = browser(base)
    await client.fetch('/count')
    await client.fetch('/read')
    expect(Object.keys(dynamodb.calls()).sort()).toEqual(['GetItem', 'PutItem'])
  })
})

describe('DynamoDB calls per request, beside connect-dynamodb in the same run', () => {
  it('makes half the calls of connect-dynamodb on reads and never more on writes', async () => {
    const connectTable = uniqueTableName('connect')
    await createSessionTable(raw, connectTable, { keyAttribute: 'id' })
    const ConnectStore = connectDynamoDB(session)
    const connectStore = new ConnectStore({ client: dynamodb.client, table: connectTable })
    const systems = {
      ours: await serve(routes(express, newStore())),
      connect: await serve(routes(express, connectStore as unknown as session.Store)),
    }
    const perRequest: Record<string, Record<string, Record<string, number>>> = {}
    for (const [name, base] of Object.entries(systems)) {
      const client = browser(base)
      await client.fetch('/count') // a session, and connect-dynamodb's first DescribeTable, first
      perRequest[name] = {}
      for (const [label, path] of [
        ['never reads', '/none'],
        ['reads', '/read'],
        ['writes', '/count'],
      ] as const) {
        dynamodb.proxy.reset()
        await client.fetch(path)
        ;(perRequest[name] as Record<string, Record<string, number>>)[label] = dynamodb.calls()
      }
    }
    expect(perRequest).toEqual({
      ours: {
        'never reads': { GetItem: 1 },
        reads: { GetItem: 1 },
        writes: { GetItem: 1, UpdateItem: 1 },
      },
      connect: {
        'never reads': { GetItem: 1, UpdateItem: 1 },
        reads: { GetItem: 1, UpdateItem: 1 },
        writes: { GetItem: 1, PutItem: 1 },
      },
    })
    // connect-dynamodb stores the id in clear, as part of its key; this store, a hash.
    const connectItems = await scanAll(raw, connectTable)
    expect(connectItems[0]?.id?.S).toMatch(/^sess:[A-Za-z0-9_-]{32}$/)
  })
})

describe('bad options get a clear error when the store is made', () => {
  it('names the missing or wrong option and how to fix it', () => {
    expect(() => expressSessionStore({} as never)).toThrow(/needs express-session itself/)
    expect(() => new DynamoDBSessionStore({} as never)).toThrow(/needs the "store" option: a DynamoDBStore/)
    const store = new MemoryStore()
    expect(() => new DynamoDBSessionStore({ store, touchAfter: -1 })).toThrow(
      /"touchAfter" must be a whole number of seconds, at least 0, not -1/,
    )
    expect(() => new DynamoDBSessionStore({ store, ttl: 1.5 })).toThrow(/"ttl" must be a whole number/)
    expect(() => new DynamoDBSessionStore({ store, userField: 'cookie' })).toThrow(/"userField"/)
    expect(() => new DynamoDBSessionStore({ store, legacy: {} as never })).toThrow(/ConnectDynamoDBTable/)
  })

  it('answers all, length and clear with an error that says why and what to use instead', async () => {
    const store: SessionStoreInstance = new DynamoDBSessionStore({ store: new MemoryStore() })
    const errorOf = (call: (done: (error: unknown) => void) => void) =>
      new Promise<Error>((resolve) => call((error) => resolve(error as Error)))
    expect((await errorOf((done) => store.all(done))).message).toMatch(
      /hashes of session ids.*listUserSessions/,
    )
    expect((await errorOf((done) => store.length(done))).message).toMatch(/Scan the whole table.*check-table/)
    expect((await errorOf((done) => store.clear(done))).message).toMatch(
      /deleteTable\(\) and createTable\(\)/,
    )
  })
})

describe('examples/express over HTTP', () => {
  it('counts visits, logs in with a new id, and logs out everywhere else', async () => {
    const { createApp } = await import('../../examples/express/server.ts')
    const base = await serve(createApp({ client: dynamodb.client, tableName, secret: EXPRESS_SECRET }))
    const user = `user-${Math.random().toString(36).slice(2)}`
    const laptop = browser(base, 'connect.sid')
    const phone = browser(base, 'connect.sid')
    expect((await laptop.fetch('/')).body).toBe('guest: visit 1')
    const guestSid = laptop.sid
    expect((await laptop.fetch(`/login?user=${user}`, { method: 'POST' })).body).toBe(`welcome ${user}`)
    expect(laptop.sid).not.toBe(guestSid)
    await phone.fetch(`/login?user=${user}`, { method: 'POST' })
    expect((await phone.fetch('/')).body).toBe(`${user}: visit 1`)
    expect((await laptop.fetch('/logout-everywhere-else', { method: 'POST' })).body).toBe(
      'ended 1 other sessions',
    )
    expect((await phone.fetch('/')).body).toBe('guest: visit 1')
    expect((await laptop.fetch('/')).body).toBe(`${user}: visit 1`)
    expect((await laptop.fetch('/login?user=<script>', { method: 'POST' })).status).toBe(400)
  })
})
