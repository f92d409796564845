// The onEvent option: each event, with the calls DynamoDB Local reports and their capacity units,
// over real HTTP; that events never delay or break a request; @hono/session's "session events"
// cases re-expressed; and that without onEvent nothing is metered.
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { hashSessionId } from '../../src/core/crypto.ts'
import {
  createTable,
  DynamoDBStore,
  destroyUserSessions,
  getSession,
  MemoryStore,
  type SessionEvent,
  type SessionOptions,
  type Store,
  sessionMiddleware,
} from '../../src/index.ts'
import { CookieJar } from '../support/cookie-jar.ts'
import { localClient, uniqueTableName } from '../support/dynamodb.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { at, deferred, SECRET, useFixedClock } from '../support/harness.ts'

type Data = { count: number; cart: string[] }

/** The routes of a small app: each does one thing to its session. */
const routes: Record<string, (request: Request) => Promise<Response>> = {
  '/login': async (request) => {
    const session = getSession<Data>(request)
    await session.regenerate()
    await session.setUser('ana')
    await session.set('count', 0)
    return new Response('in')
  },
  '/count': async (request) => {
    const session = getSession<Data>(request)
    await session.set('count', ((await session.get('count')) ?? 0) + 1)
    return new Response('counted')
  },
  '/add': async (request) => {
    const cart = await getSession<Data>(request).update('cart', (cart = []) => [...cart, 'tea'])
    return new Response(String(cart?.length))
  },
  '/read': async (request) => new Response(String((await getSession<Data>(request).get('count')) ?? 'none')),
  '/logout': async (request) => {
    await getSession(request).destroy()
    return new Response('out')
  },
  '/static': async () => new Response('no session here'),
}

type Route = (request: Request) => Promise<Response>

/** Serves the routes through the session middleware on 127.0.0.1; each browser is a cookie jar. */
async function startApp(options: Pick<SessionOptions, 'store'> & Partial<SessionOptions>) {
  const events: SessionEvent[] = []
  const withSession = sessionMiddleware<Data>({
    secretKey: SECRET,
    onEvent: (event) => void events.push(event),
    ...options,
  })
  const server = serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: (request) =>
      withSession(request, (request) => {
        const route = routes[new URL(request.url).pathname]
        return route ? route(request) : new Response('not found', { status: 404 })
      }),
  })
  await new Promise((resolve) => server.once('listening', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    events,
    /** Sends one request with `jar`'s cookies and takes in what it sets; answers the body. */
    async visit(jar: CookieJar, path: string, method = 'POST') {
      const cookie = jar.header()
      const response = await fetch(`${origin}${path}`, { method, headers: cookie ? { cookie } : {} })
      jar.take(response.headers.getSetCookie())
      const body = await response.text()
      await delivered()
      return { status: response.status, body, setCookie: response.headers.getSetCookie() }
    },
    /** The events since the last call. */
    take() {
      return events.splice(0)
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/** Events are handed over in a microtask: one turn of the event loop delivers them all. */
const delivered = () => new Promise((resolve) => setImmediate(resolve))

/** The session id in a jar (the part of the signed cookie before the signature). */
const idIn = (jar: CookieJar) => (jar.get('sid') ?? '').split('.')[0] ?? ''

/** What an event says, without its timing, request and error object. */
function summary({ type, key, previousKey, userId, calls, capacityUnits, ended }: SessionEvent) {
  return { type, key, previousKey, userId, calls, capacityUnits, ended }
}

const call = (operation: string, capacityUnits?: number) => ({ operation, capacityUnits })

describe('onEvent on DynamoDB Local, over HTTP', () => {
  useFixedClock()
  const client = localClient()
  let tableName = ''
  let site: Awaited<ReturnType<typeof startApp>>
  beforeAll(async () => {
    tableName = uniqueTableName('events')
    await createTable({ client, tableName, maxWaitTime: 30 })
    site = await startApp({ store: new DynamoDBStore({ client, tableName }), maxStale: 3600 })
  })
  afterAll(() => site.close())

  // As DynamoDB bills: a strongly consistent read (the store's default) of a small item is 1 unit;
  // a write is 1 unit, and 1 more where it writes the user index (a session bound to a user).
  it('reports a login, reads, a change, a touch, a logout and the stale cookie after it, with their calls and capacity', async () => {
    const jar = new CookieJar()
    await site.visit(jar, '/login')
    const key = await hashSessionId(idIn(jar))
    const [created] = site.take()
    expect(summary(created as SessionEvent)).toEqual({
      type: 'created',
      key,
      previousKey: undefined,
      userId: 'ana',
      calls: [call('PutItem', 2)], // the item and its user index entry
      capacityUnits: 2,
      ended: undefined,
    })
    expect(new URL(created?.request?.url ?? '').pathname).toBe('/login')
    expect(created?.durationMs).toBeGreaterThan(0)
    expect(created?.startTime).toBe(Date.now()) // the clock is fixed

    await site.visit(jar, '/read', 'GET')
    expect(site.take().map(summary)).toEqual([
      {
        ...summary(created as SessionEvent),
        type: 'read',
        calls: [call('GetItem', 1)],
        capacityUnits: 1,
      },
    ])

    // A request that changes its session: its read, then its write, each with its own call.
    await site.visit(jar, '/count')
    expect(site.take().map(summary)).toEqual([
      { ...summary(created as SessionEvent), type: 'read', calls: [call('GetItem', 1)], capacityUnits: 1 },
      {
        ...summary(created as SessionEvent),
        type: 'updated',
        calls: [call('UpdateItem', 1)],
        capacityUnits: 1,
      },
    ])

    at(400) // past touchAfter (360 s with maxStale 3600): a read extends the idle expiry
    await site.visit(jar, '/read', 'GET')
    expect(site.take().map(({ type, calls }) => ({ type, calls }))).toEqual([
      { type: 'read', calls: [call('GetItem', 1)] },
      { type: 'touched', calls: [call('UpdateItem', 1)] },
    ])

    const stale = jar.get('sid') as string
    await site.visit(jar, '/logout')
    // destroy() reads nothing, so the event names the session but no user.
    expect(site.take().map(summary)).toEqual([
      {
        type: 'destroyed',
        key,
        previousKey: undefined,
        userId: undefined,
        calls: [call('DeleteItem', 2)],
        capacityUnits: 2,
        ended: undefined,
      },
    ])

    const replay = new CookieJar()
    replay.set('sid', stale)
    const { setCookie } = await site.visit(replay, '/read', 'GET')
    expect(setCookie.join()).toMatch(/^sid=;.*Max-Age=0/)
    expect(site.take().map(summary)).toEqual([
      {
        type: 'staleCookie',
        key,
        previousKey: undefined,
        userId: undefined,
        calls: [call('GetItem', 1)],
        capacityUnits: 1,
        ended: undefined,
      },
    ])
  })

  it('reports regenerate() with the key it moved from, and the one-item transaction that deleted it', async () => {
    const jar = new CookieJar()
    await site.visit(jar, '/count')
    const before = await hashSessionId(idIn(jar))
    site.take()
    await site.visit(jar, '/login')
    const [read, regenerated, ...rest] = site.take()
    expect(rest).toEqual([])
    expect(read?.type).toBe('read')
    expect(summary(regenerated as SessionEvent)).toMatchObject({
      type: 'regenerated',
      key: await hashSessionId(idIn(jar)),
      previousKey: before,
      userId: 'ana',
      calls: [call('PutItem', 2), { operation: 'TransactWriteItems' }],
    })
    // A transactional write costs at least two units (DynamoDB Local reports 4 for this one).
    const transaction = regenerated?.calls[1]?.capacityUnits ?? 0
    expect(transaction).toBeGreaterThanOrEqual(2)
    expect(regenerated?.capacityUnits).toBe(2 + transaction)
  })

  it("reports session.update()'s compare-and-swap write as an update", async () => {
    const jar = new CookieJar()
    await site.visit(jar, '/login')
    site.take()
    await site.visit(jar, '/add')
    expect(site.take().map(({ type, calls }) => ({ type, calls }))).toEqual([
      { type: 'read', calls: [call('GetItem', 1)] },
      { type: 'updated', calls: [call('UpdateItem', 1)] },
    ])
  })

  it('reports a tampered cookie, with no key and no call, and nothing for a route that never uses its session', async () => {
    const jar = new CookieJar()
    jar.set('sid', `${'a'.repeat(43)}.${'b'.repeat(43)}`)
    await site.visit(jar, '/static', 'GET')
    expect(site.take()).toEqual([])
    await site.visit(jar, '/read', 'GET')
    expect(site.take().map(summary)).toEqual([
      {
        type: 'tamperedCookie',
        key: undefined,
        previousKey: undefined,
        userId: undefined,
        calls: [],
        capacityUnits: 0,
        ended: undefined,
      },
    ])
  })

  it('reports a change that lost the race with a logout as a SESSION_ENDED storeError', async () => {
    const jar = new CookieJar()
    await site.visit(jar, '/login')
    const key = await hashSessionId(idIn(jar))
    site.take()
    // A request that read the session holds its change while another logs out.
    const store = new DynamoDBStore({ client, tableName })
    const events: SessionEvent[] = []
    const withSession = sessionMiddleware<Data>({
      secretKey: SECRET,
      store,
      onEvent: (e) => void events.push(e),
    })
    const read = deferred()
    const hold = deferred()
    const racing = withSession(
      new Request('https://app.test/count', { headers: { cookie: `sid=${jar.get('sid')}` } }),
      async (request) => {
        const session = getSession<Data>(request)
        await session.set('count', 99)
        read.resolve()
        await hold.promise
        return new Response('late')
      },
    )
    await read.promise
    await site.visit(jar, '/logout')
    hold.resolve()
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    expect((await racing).status).toBe(200)
    await delivered()
    expect(
      events.map(({ type, key, error, calls }) => ({
        type,
        key,
        code: error?.code,
        operations: calls.map((c) => c.operation),
      })),
    ).toEqual([
      { type: 'read', key, code: undefined, operations: ['GetItem'] },
      { type: 'storeError', key, code: 'SESSION_ENDED', operations: ['UpdateItem'] },
    ])
    expect(events[1]?.calls[0]?.capacityUnits).toBeUndefined() // a refused write reports no capacity
  })

  it('reports destroyUserSessions() as loggedOutEverywhere, with the user, how many ended and what it cost', async () => {
    const phone = new CookieJar()
    const laptop = new CookieJar()
    await site.visit(phone, '/login')
    await site.visit(laptop, '/login')
    site.take()
    const events: SessionEvent[] = []
    const store = new DynamoDBStore({ client, tableName })
    const ended = await destroyUserSessions(store, 'ana', {
      settleMs: 0,
      onEvent: (e) => void events.push(e),
    })
    await delivered()
    expect(ended).toBeGreaterThanOrEqual(2)
    expect(
      events.map(({ type, userId, ended, key, request }) => ({ type, userId, ended, key, request })),
    ).toEqual([{ type: 'loggedOutEverywhere', userId: 'ana', ended, key: undefined, request: undefined }])
    const operations = events[0]?.calls.map((c) => c.operation) ?? []
    expect(operations.filter((o) => o === 'DeleteItem')).toHaveLength(ended)
    expect(operations).toContain('Query')
    expect(events[0]?.capacityUnits).toBe(
      events[0]?.calls.reduce((sum, c) => sum + (c.capacityUnits ?? 0), 0),
    )
    expect(events[0]?.capacityUnits).toBeGreaterThanOrEqual(ended) // at least one unit per delete
  })
})

describe('onEvent and store failures', () => {
  let proxy: Awaited<ReturnType<typeof startFaultProxy>>
  let site: Awaited<ReturnType<typeof startApp>>
  beforeAll(async () => {
    proxy = await startFaultProxy(inject('dynamodbEndpoint'))
    const client = localClient()
    const tableName = uniqueTableName('events-faults')
    await createTable({ client, tableName, maxWaitTime: 30 })
    const store = new DynamoDBStore({
      tableName,
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
    site = await startApp({ store })
  })
  afterAll(async () => {
    await site.close()
    await proxy.close()
  })
  afterEach(() => vi.restoreAllMocks())

  it('reports a failed read as a storeError with its code and the failed call, and the request fails closed', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const jar = new CookieJar()
    await site.visit(jar, '/login')
    const key = await hashSessionId(idIn(jar))
    site.take()
    proxy.inject({ kind: 'server-error' }, { operation: 'GetItem', times: 10 })
    const { status } = await site.visit(jar, '/read', 'GET')
    expect(status).toBe(503)
    expect(
      site.take().map(({ type, key, error, calls, capacityUnits }) => ({
        type,
        key,
        code: error?.code,
        calls,
        capacityUnits,
      })),
    ).toEqual([
      { type: 'storeError', key, code: 'STORE_UNAVAILABLE', calls: [call('GetItem')], capacityUnits: 0 },
    ])
  })
})

describe('onEvent never delays or breaks a request', () => {
  afterEach(() => vi.restoreAllMocks())

  const visitWith = async (onEvent: NonNullable<SessionOptions['onEvent']>) => {
    const withSession = sessionMiddleware<Data>({ secretKey: SECRET, store: new MemoryStore(), onEvent })
    return withSession(
      new Request('https://app.test/count'),
      routes['/count'] as (r: Request) => Promise<Response>,
    )
  }

  it('is not awaited: a handler that never settles holds nothing up, and it is still called', async () => {
    let called = 0
    const response = await visitWith(() => {
      called += 1
      return new Promise(() => {})
    })
    expect(response.status).toBe(200)
    expect(response.headers.getSetCookie()).toHaveLength(1)
    await delivered()
    expect(called).toBe(1)
  })

  it('a handler that throws or rejects changes nothing of the response, and is logged', async () => {
    const logged: string[] = []
    vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args.map(String).join(' ')))
    for (const onEvent of [
      () => {
        throw new Error('exporter down')
      },
      async () => {
        throw new Error('exporter down')
      },
    ]) {
      const response = await visitWith(onEvent)
      expect(response.status).toBe(200)
      expect(response.headers.getSetCookie()[0]).toMatch(/^sid=/)
      await delivered()
    }
    expect(logged).toHaveLength(2)
    for (const line of logged)
      expect(line).toMatch(
        /^\[dynamodb-session\] onEvent failed; the request was not affected: Error: exporter down/,
      )
  })
})

describe('onEvent and session.update() conflicts', () => {
  it('reports giving up after 20 conflicts as a SESSION_CONFLICT storeError, with every attempt counted', async () => {
    const memory = new MemoryStore()
    // Fault injection: a rival request changes the key before each compare-and-swap.
    const raced: Store = {
      load: (key) => memory.load(key),
      create: (record) => memory.create(record),
      touch: (record) => memory.touch(record),
      delete: (key, options) => memory.delete(key, options),
      async update(record, keys, options) {
        if (options?.ifValue) {
          const current = await memory.load(record.key)
          const cart = [...((current?.data.cart as string[] | undefined) ?? []), 'rival']
          if (current) await memory.update({ ...current, data: { ...current.data, cart } }, ['cart'])
        }
        return memory.update(record, keys, options)
      },
    }
    const site = await startApp({ store: raced })
    try {
      const jar = new CookieJar()
      await site.visit(jar, '/login')
      site.take()
      vi.spyOn(console, 'error').mockImplementation(() => {})
      const { status } = await site.visit(jar, '/add')
      expect(status).toBe(500)
      const events = site.take()
      // the first read, then per attempt a refused update and a re-read, which reports both
      expect(events.map(({ type }) => type)).toEqual([...Array(21).fill('read'), 'storeError'])
      expect(events.at(-1)?.error?.code).toBe('SESSION_CONFLICT')
      expect(events.flatMap(({ calls }) => calls)).toHaveLength(1 + 20 * 2)
    } finally {
      vi.restoreAllMocks()
      await site.close()
    }
  })
})

describe('onEvent with a store that reports no calls (MemoryStore)', () => {
  it('counts one call per store method, with no capacity', async () => {
    const site = await startApp({ store: new MemoryStore() })
    try {
      const jar = new CookieJar()
      await site.visit(jar, '/login')
      await site.visit(jar, '/count')
      await site.visit(jar, '/logout')
      expect(site.take().map(({ type, calls, capacityUnits }) => ({ type, calls, capacityUnits }))).toEqual([
        { type: 'created', calls: [call('create')], capacityUnits: 0 },
        { type: 'read', calls: [call('load')], capacityUnits: 0 },
        { type: 'updated', calls: [call('update')], capacityUnits: 0 },
        { type: 'destroyed', calls: [call('delete')], capacityUnits: 0 },
      ])
    } finally {
      await site.close()
    }
  })
})

describe('onEvent when a touch finds the session ended meanwhile', () => {
  useFixedClock()
  it('reports the stale cookie, with the refused touch as its call', async () => {
    const store = new MemoryStore()
    const events: SessionEvent[] = []
    const withSession = sessionMiddleware<Data>({
      secretKey: SECRET,
      store,
      maxStale: 3600, // touchAfter 360 s
      onEvent: (e) => void events.push(e),
    })
    const first = await withSession(new Request('https://app.test/count'), routes['/count'] as Route)
    const cookie = first.headers.getSetCookie()[0]?.split(';')[0] ?? ''
    at(400) // past touchAfter: this read would extend the idle expiry
    await withSession(new Request('https://app.test/read', { headers: { cookie } }), async (request) => {
      const response = await (routes['/read'] as Route)(request)
      await store.delete(await hashSessionId(cookie.slice('sid='.length).split('.')[0] ?? '')) // a logout elsewhere
      return response
    })
    await delivered()
    expect(events.map(({ type, calls }) => ({ type, calls }))).toEqual([
      { type: 'created', calls: [call('create')] },
      { type: 'read', calls: [call('load')] },
      { type: 'staleCookie', calls: [call('touch')] },
    ])
  })
})

// @hono/session's "session events" (packages/session/src/index.test.ts): each change emits its
// own event and no other.
describe("@hono/session's session events, re-expressed", () => {
  useFixedClock()
  let site: Awaited<ReturnType<typeof startApp>>
  let store: Store
  beforeAll(async () => {
    store = new MemoryStore()
    site = await startApp({ store, maxStale: 3600 })
  })
  afterAll(() => site.close())
  // @hono/session has no read event: each request's reads are left out here.
  const typesOf = () =>
    site
      .take()
      .map(({ type }) => type)
      .filter((type) => type !== 'read')

  it('emits create events', async () => {
    await site.visit(new CookieJar(), '/count')
    expect(typesOf()).toEqual(['created'])
  })

  it('emits delete events', async () => {
    const jar = new CookieJar()
    await site.visit(jar, '/count')
    site.take()
    await site.visit(jar, '/logout')
    expect(typesOf()).toEqual(['destroyed'])
  })

  it('emits refresh events', async () => {
    const jar = new CookieJar()
    await site.visit(jar, '/count')
    site.take()
    at(400)
    await site.visit(jar, '/read', 'GET')
    expect(typesOf()).toEqual(['touched'])
  })

  it('emits update events', async () => {
    const jar = new CookieJar()
    await site.visit(jar, '/count')
    site.take()
    await site.visit(jar, '/count')
    expect(typesOf()).toEqual(['updated'])
  })
})

describe('without onEvent', () => {
  it('asks DynamoDB for no consumed capacity; with it, asks for the total', async () => {
    const asked: (string | undefined)[] = []
    const client = localClient()
    client.middlewareStack.add(
      (next) => (args) => {
        asked.push((args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity)
        return next(args)
      },
      { step: 'initialize', name: 'recordCapacityAsked' },
    )
    const tableName = uniqueTableName('events-off')
    await createTable({ client, tableName, maxWaitTime: 30 })
    asked.length = 0
    const store = new DynamoDBStore({ client, tableName })
    const run = (options: Partial<SessionOptions>) =>
      sessionMiddleware<Data>({ secretKey: SECRET, store, ...options })(
        new Request('https://app.test/count'),
        routes['/count'] as (r: Request) => Promise<Response>,
      )
    await run({})
    expect(asked).toEqual([undefined])
    asked.length = 0
    await run({ onEvent: () => {} })
    expect(asked).toEqual(['TOTAL'])
  })
})
