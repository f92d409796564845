import { describe, expect, it, vi } from 'vitest'
import { hashSessionId } from '../../src/core/crypto.ts'
import {
  DynamoDBStore,
  getSession,
  MemoryStore,
  type SessionError,
  SessionTooLargeError,
  sessionMiddleware,
} from '../../src/index.ts'
import type { SessionRecord } from '../../src/store/store.ts'
import { scanAll } from '../support/dynamodb.ts'
import {
  app,
  at,
  count,
  deferred,
  dynamoStore,
  epoch,
  OLD_SECRET,
  readCount,
  SECRET,
  useFixedClock,
} from '../support/harness.ts'

type Data = { count: number; user: string; note: string; a: number; b: number; blob: string }

const recordOf = async (store: DynamoDBStore, id: string | undefined): Promise<SessionRecord | undefined> =>
  store.load(await hashSessionId(id ?? ''))

describe('expiry and touches', () => {
  useFixedClock()

  it.each([
    ['expired', async (_env: Awaited<ReturnType<typeof dynamoStore>>, _id: string) => at(601)],
    [
      'deleted from the table (TTL, gc, log out everywhere)',
      async (env: Awaited<ReturnType<typeof dynamoStore>>, id: string) => {
        await env.store.delete(await hashSessionId(id))
      },
    ],
  ])('clears the cookie of a session that is %s, so the next request reads nothing', async (_, end) => {
    const env = await dynamoStore()
    const sessions = app(env.store, { maxStale: 600 })
    const { cookie } = await sessions.send(count)
    await end(env, cookie?.id ?? '')
    env.counter.reset()
    const stale = await sessions.send(readCount, cookie?.value)
    expect(stale.body).toBe('0')
    expect(stale.cookie?.header).toMatch(/^sid=; Max-Age=0;/)
    expect(env.counter.calls).toEqual(['GetItemCommand'])
    env.counter.reset()
    // The browser dropped the cookie: the next request that reads the session costs no call.
    expect((await sessions.send(readCount)).body).toBe('0')
    expect(env.counter.calls).toEqual([])
  })

  it('stores expire_at = min(updated + maxStale, created + maxAge) in epoch seconds', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store, { maxStale: 600, maxAge: 1000, touchAfter: 60 })
    const { cookie } = await sessions.send(count)
    const [item] = await scanAll(env.client, env.tableName)
    expect(item?.expire_at).toEqual({ N: String(epoch(600)) })

    at(500)
    await sessions.send(count, cookie?.value)
    expect((await recordOf(env.store, cookie?.id))?.expiresAt).toBe(epoch(1000)) // absolute cap, not 1100
  })

  it('treats an item past expire_at as absent though TTL has not deleted it yet', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store, { maxStale: 600 })
    const { cookie } = await sessions.send(count)
    at(599)
    expect((await recordOf(env.store, cookie?.id))?.data).toEqual({ count: 1 })
    at(600)
    expect(await recordOf(env.store, cookie?.id)).toBeUndefined()
    expect((await sessions.send(readCount, cookie?.value)).body).toBe('0')
    expect(await scanAll(env.client, env.tableName)).toHaveLength(1) // still there, but dead
  })

  it('ends a session at maxAge however active it is', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store, { maxStale: 100, maxAge: 250, touchAfter: 10 })
    const { cookie } = await sessions.send(count)
    for (const second of [90, 180, 249]) {
      at(second)
      expect((await sessions.send(readCount, cookie?.value)).body).toBe('1')
    }
    at(250)
    expect((await sessions.send(readCount, cookie?.value)).body).toBe('0')
  })

  it('touches an unchanged session at most once per touchAfter, writing only the expiry attributes', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store, { maxStale: 600, touchAfter: 60 })
    const { cookie } = await sessions.send(count)
    const [before] = await scanAll(env.client, env.tableName)

    env.counter.reset()
    at(59)
    await sessions.send(readCount, cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand'])

    env.counter.reset()
    at(60)
    const touched = await sessions.send(readCount, cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand', 'UpdateItemCommand'])
    expect(touched.cookie).toBeUndefined() // a browser-session cookie needs no renewal
    const [after] = await scanAll(env.client, env.tableName)
    expect(after).toEqual({
      ...before,
      updated_at: { N: String(epoch(60)) },
      expire_at: { N: String(epoch(660)) },
    })

    env.counter.reset()
    at(119)
    await sessions.send(readCount, cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand'])
  })

  it('keeps an active user signed in for as long as they come back within maxStale', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store, { maxStale: 100, touchAfter: 10 })
    const { cookie } = await sessions.send(count)
    for (let second = 89; second <= 89 * 12; second += 89) {
      at(second)
      expect((await sessions.send(readCount, cookie?.value)).body).toBe('1')
    }
    at(89 * 12 + 100)
    expect((await sessions.send(readCount, cookie?.value)).body).toBe('0')
  })

  it('renews a persistent cookie when it slides the expiry', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store, { maxStale: 600, touchAfter: 60, cookie: { maxAge: 600 } })
    const { cookie } = await sessions.send(count)
    expect(cookie?.header).toContain('Max-Age=600')
    at(60)
    const renewed = await sessions.send(readCount, cookie?.value)
    expect(renewed.cookie?.value).toBe(cookie?.value)
    expect(renewed.cookie?.header).toContain('Max-Age=600')
  })
})

describe('regenerate and destroy', () => {
  it('regenerate() keeps the data under a new id and deletes the old item', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const login = await sessions.send(async (request) => {
      const session = getSession<Data>(request)
      const before = session.id
      await session.regenerate()
      await session.set('user', 'ada')
      return new Response(before === session.id ? 'same id' : 'new id')
    }, cookie?.value)
    expect(login.body).toBe('new id')
    expect(login.cookie?.id).not.toBe(cookie?.id)
    expect(await recordOf(env.store, cookie?.id)).toBeUndefined()
    expect((await recordOf(env.store, login.cookie?.id))?.data).toEqual({ count: 1, user: 'ada' })
    expect((await sessions.send(readCount, cookie?.value)).body).toBe('0')
    expect((await sessions.send(readCount, login.cookie?.value)).body).toBe('1')
  })

  it('regenerate() keeps the old session when the new one cannot be written', async () => {
    class FailingCreate extends MemoryStore {
      failing = false
      override async create(record: SessionRecord) {
        if (this.failing) throw new Error('throttled')
        return super.create(record)
      }
    }
    const store = new FailingCreate()
    const sessions = app(store, { onError: () => new Response('try again', { status: 503 }) })
    const { cookie } = await sessions.send(count)
    store.failing = true
    const login = await sessions.send(async (request) => {
      await getSession(request).regenerate()
      return new Response('new id')
    }, cookie?.value)
    expect(login.response.status).toBe(503)
    expect(login.cookie).toBeUndefined()
    expect((await sessions.send(readCount, cookie?.value)).body).toBe('1')
  })

  it('destroy() deletes the item without reading it and expires the cookie with the same name, path and domain', async () => {
    const env = await dynamoStore()
    const cookieOptions = { name: '__Secure-session', domain: 'app.test', path: '/' }
    const sessions = app(env.store, { cookie: cookieOptions })
    const { cookie } = await sessions.send(count)
    env.counter.reset()
    const logout = await sessions.send(async (request) => {
      await getSession(request).destroy()
      return new Response('bye')
    }, cookie?.value)
    expect(env.counter.calls).toEqual(['DeleteItemCommand'])
    expect(await scanAll(env.client, env.tableName)).toEqual([])
    const header = logout.response.headers.getSetCookie()[0] ?? ''
    expect(header).toMatch(/^__Secure-session=;/)
    expect(header).toContain('Max-Age=0')
    expect(header).toContain('Domain=app.test')
    expect(header).toContain('Path=/')
    expect(header).toContain('Secure')
  })

  it('a value set after destroy() starts a new session under a new id', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const after = await sessions.send(async (request) => {
      const session = getSession<Data>(request)
      await session.destroy()
      await session.set('note', 'logged out')
      return new Response('ok')
    }, cookie?.value)
    expect(after.cookie?.id).not.toBe(cookie?.id)
    expect(await recordOf(env.store, cookie?.id)).toBeUndefined()
    expect((await recordOf(env.store, after.cookie?.id))?.data).toEqual({ note: 'logged out' })
  })

  it('clearing every value deletes the item and expires the cookie', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const cleared = await sessions.send(async (request) => {
      await getSession(request).clear()
      return new Response('ok')
    }, cookie?.value)
    expect(cleared.cookie?.header).toContain('Max-Age=0')
    expect(await scanAll(env.client, env.tableName)).toEqual([])
  })
})

describe('conditional writes', () => {
  it('retries a colliding new id with another one instead of overwriting', async () => {
    const env = await dynamoStore()
    class CollidingOnce extends DynamoDBStore {
      collisions = 1
      override async create(record: SessionRecord) {
        if (this.collisions-- > 0) return false // as if the id were taken
        return super.create(record)
      }
    }
    const store = new CollidingOnce({ client: env.client, tableName: env.tableName })
    let firstId = ''
    const { cookie } = await app(store).send(async (request) => {
      firstId = getSession(request).id
      return count(request)
    })
    expect(cookie?.id).not.toBe(firstId)
    expect((await recordOf(env.store, cookie?.id))?.data).toEqual({ count: 1 })
    expect(await recordOf(env.store, firstId)).toBeUndefined()
  })

  it('a request in flight cannot resurrect a session destroyed meanwhile', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const loaded = deferred()
    const destroyed = deferred()
    const slow = sessions.send(async (request) => {
      const session = getSession<Data>(request)
      await session.get('count')
      loaded.resolve()
      await destroyed.promise
      await session.set('count', 99)
      return new Response('late write')
    }, cookie?.value)
    await loaded.promise
    await sessions.send(async (request) => {
      await getSession(request).destroy()
      return new Response('logged out')
    }, cookie?.value)
    destroyed.resolve()
    const late = await slow
    expect(late.response.status).toBe(200)
    expect(late.cookie).toBeUndefined() // the logout's expiry cookie is not undone either
    expect(await scanAll(env.client, env.tableName)).toEqual([])
  })

  it('a request in flight writes neither the old id nor over the new one after regenerate()', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const loaded = deferred()
    const regenerated = deferred()
    const slow = sessions.send(async (request) => {
      const session = getSession<Data>(request)
      await session.get('count')
      loaded.resolve()
      await regenerated.promise
      await session.set('note', 'late')
      return new Response('late write')
    }, cookie?.value)
    await loaded.promise
    const login = await sessions.send(async (request) => {
      await getSession(request).regenerate()
      return new Response('new id')
    }, cookie?.value)
    regenerated.resolve()
    await slow
    const items = await scanAll(env.client, env.tableName)
    expect(items).toHaveLength(1)
    expect((await recordOf(env.store, login.cookie?.id))?.data).toEqual({ count: 1 })
  })

  it('two requests of one session changing different keys both keep their change', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const bothLoaded = [deferred(), deferred()]
    const write = (key: 'a' | 'b', index: number) =>
      sessions.send(async (request) => {
        const session = getSession<Data>(request)
        await session.get('count')
        bothLoaded[index]?.resolve()
        await Promise.all(bothLoaded.map(({ promise }) => promise))
        await session.set(key, index)
        return new Response(key)
      }, cookie?.value)
    await Promise.all([write('a', 0), write('b', 1)])
    expect((await recordOf(env.store, cookie?.id))?.data).toEqual({ count: 1, a: 0, b: 1 })
  })
})

describe('conditional writes with requests in flight', () => {
  /** Runs `slow` up to its first read, runs `meanwhile` to its end, then lets `slow` finish. */
  async function interleave<T>(
    slow: (request: Request) => Promise<Response>,
    meanwhile: () => Promise<T>,
    send: (handler: (request: Request) => Promise<Response>) => ReturnType<ReturnType<typeof app>['send']>,
  ) {
    const loaded = deferred()
    const resume = deferred()
    const late = send(async (request) => {
      await getSession<Data>(request).get('count')
      loaded.resolve()
      await resume.promise
      return slow(request)
    })
    await loaded.promise
    const other = await meanwhile()
    resume.resolve()
    return { late: await late, other }
  }

  it('regenerate() in a request in flight does not bring back a session logged out meanwhile', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const { late } = await interleave(
      async (request) => {
        const session = getSession<Data>(request)
        await session.regenerate()
        await session.set('user', 'ada')
        return new Response('logged in')
      },
      () =>
        sessions.send(async (request) => {
          await getSession(request).destroy()
          return new Response('bye')
        }, cookie?.value),
      (handler) => sessions.send(handler, cookie?.value),
    )
    expect(late.response.status).toBe(200)
    expect(late.cookie).toBeUndefined() // the logout's expiring cookie stands
    expect(await scanAll(env.client, env.tableName)).toEqual([])
  })

  it('a request that empties the session keeps a change another request made meanwhile', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const { late } = await interleave(
      async (request) => {
        await getSession<Data>(request).clear()
        return new Response('cleared')
      },
      () =>
        sessions.send(async (request) => {
          await getSession<Data>(request).set('user', 'ada')
          return new Response('ok')
        }, cookie?.value),
      (handler) => sessions.send(handler, cookie?.value),
    )
    expect(late.cookie).toBeUndefined() // not expired: the session still holds the other change
    expect((await recordOf(env.store, cookie?.id))?.data).toEqual({ user: 'ada' })
  })

  it('an update of more than 150 keys keeps a change another request made meanwhile', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const keys = Array.from({ length: 200 }, (_, index) => `key${index}`)
    const { cookie } = await sessions.send(async (request) => {
      const session = getSession<Record<string, unknown>>(request)
      for (const key of [...keys, 'count']) await session.set(key, 0)
      return new Response('ok')
    })
    env.counter.reset()
    await interleave(
      async (request) => {
        const session = getSession<Record<string, unknown>>(request)
        for (const key of keys) await session.set(key, 1)
        return new Response('all changed')
      },
      () =>
        sessions.send(async (request) => {
          await getSession<Data>(request).set('note', 'kept')
          return new Response('ok')
        }, cookie?.value),
      (handler) => sessions.send(handler, cookie?.value),
    )
    const data = (await recordOf(env.store, cookie?.id))?.data ?? {}
    expect(data.note).toBe('kept')
    expect(keys.every((key) => data[key] === 1)).toBe(true)
    // The whole-map write lost its compare-and-swap once, read the session again and won.
    expect(env.counter.calls.filter((call) => call === 'UpdateItemCommand')).toHaveLength(3)
  })

  it("keeps another request's change while re-sealing values of a retired secret", async () => {
    const env = await dynamoStore()
    const { cookie } = await app(env.store, { secretKey: OLD_SECRET, encrypt: true }).send(
      async (request) => {
        for (const key of ['count', 'a', 'b'] as const) await getSession<Data>(request).set(key, 0)
        return new Response('ok')
      },
    )
    const rotated = app(env.store, { secretKey: [SECRET, OLD_SECRET], encrypt: true })
    await interleave(
      async (request) => {
        await getSession<Data>(request).set('a', 1)
        return new Response('a')
      },
      () =>
        rotated.send(async (request) => {
          await getSession<Data>(request).set('b', 2)
          return new Response('b')
        }, cookie?.value),
      (handler) => rotated.send(handler, cookie?.value),
    )
    const read = await rotated.send(
      async (request) => new Response(JSON.stringify(await getSession(request).all())),
      cookie?.value,
    )
    expect(JSON.parse(read.body)).toEqual({ count: 0, a: 1, b: 2 })
  })

  it('sends no re-signed cookie for a session destroyed while its touch was due', async () => {
    const env = await dynamoStore()
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      at(0)
      const { cookie } = await app(env.store, { secretKey: OLD_SECRET }).send(count)
      at(7200) // past the default touchAfter
      const rotated = app(env.store, { secretKey: [SECRET, OLD_SECRET] })
      const { late } = await interleave(
        async () => new Response('read only'),
        () =>
          rotated.send(async (request) => {
            await getSession(request).destroy()
            return new Response('bye')
          }, cookie?.value),
        (handler) => rotated.send(handler, cookie?.value),
      )
      expect(late.cookie).toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('regenerate() corners', () => {
  const regenerate = async (request: Request) => {
    await getSession(request).regenerate()
    return new Response('regenerated')
  }

  it('then destroy(): the old item is deleted, no new one is written, the cookie expires', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const out = await sessions.send(async (request) => {
      await getSession(request).regenerate()
      await getSession(request).destroy()
      return new Response('bye')
    }, cookie?.value)
    expect(out.cookie?.header).toContain('Max-Age=0')
    expect(await scanAll(env.client, env.tableName)).toEqual([])
  })

  it('twice: one new item under the last id, the old one deleted', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const ids: string[] = []
    const out = await sessions.send(async (request) => {
      const session = getSession(request)
      await session.regenerate()
      ids.push(session.id)
      await session.regenerate()
      ids.push(session.id)
      return new Response('twice')
    }, cookie?.value)
    expect(new Set([cookie?.id, ...ids]).size).toBe(3)
    expect(out.cookie?.id).toBe(ids[1])
    const items = await scanAll(env.client, env.tableName)
    expect(items).toHaveLength(1)
    expect((await recordOf(env.store, ids[1]))?.data).toEqual({ count: 1 })
  })

  it('of a new session: a plain create, no delete', async () => {
    const env = await dynamoStore()
    const out = await app(env.store).send(async (request) => {
      await getSession(request).regenerate()
      return count(request)
    })
    expect(env.counter.calls).toEqual(['PutItemCommand'])
    expect((await recordOf(env.store, out.cookie?.id))?.data).toEqual({ count: 1 })
  })

  it('then clear(): the old item is deleted and the cookie expires', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(count)
    const out = await sessions.send(async (request) => {
      await getSession(request).regenerate()
      await getSession(request).clear()
      return new Response('cleared')
    }, cookie?.value)
    expect(out.cookie?.header).toContain('Max-Age=0')
    expect(await scanAll(env.client, env.tableName)).toEqual([])
  })

  it('keeps the creation time, so maxAge still counts from it', async () => {
    const env = await dynamoStore()
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      at(0)
      const sessions = app(env.store, { maxStale: 600, maxAge: 1000, touchAfter: 60 })
      const { cookie } = await sessions.send(count)
      at(500)
      const out = await sessions.send(regenerate, cookie?.value)
      const record = await recordOf(env.store, out.cookie?.id)
      expect(record?.createdAt).toBe(epoch(0))
      expect(record?.expiresAt).toBe(epoch(1000)) // not 500 + 600
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('what a request never used its session for', () => {
  it('reads no abort signal (servers such as @hono/node-server make one on demand)', async () => {
    const withSession = sessionMiddleware({ secretKey: SECRET, store: new MemoryStore() })
    const request = new Request('https://app.test/')
    let signalReads = 0
    const { signal } = request
    Object.defineProperty(request, 'signal', {
      get: () => {
        signalReads += 1
        return signal
      },
    })
    const response = await withSession(request, () => new Response('no session here'))
    expect(await response.text()).toBe('no session here')
    expect(signalReads).toBe(0)
  })
})

describe('a session bound to a user', () => {
  it('clear() removes the values but keeps the item and its user', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(async (request) => {
      await getSession(request).setUser('ada')
      return count(request)
    })
    const out = await sessions.send(async (request) => {
      await getSession(request).clear()
      return new Response('cleared')
    }, cookie?.value)
    expect(out.cookie).toBeUndefined()
    expect(await recordOf(env.store, cookie?.id)).toMatchObject({ data: {}, userId: 'ada' })
  })
})

describe('flash', () => {
  it('is readable exactly once, on a later request', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const flashed = await sessions.send(async (request) => {
      const session = getSession<Data>(request)
      await session.flash('note', 'Welcome back')
      return new Response(String(await session.get('note')))
    })
    expect(flashed.body).toBe('undefined')
    const show = async (request: Request) => new Response(String(await getSession<Data>(request).get('note')))
    expect((await sessions.send(show, flashed.cookie?.value)).body).toBe('Welcome back')
    expect((await sessions.send(show, flashed.cookie?.value)).body).toBe('undefined')
  })
})

describe('limits', () => {
  it('refuses a session over 400 KB with a typed error, before any write', async () => {
    const env = await dynamoStore()
    const seen: SessionError[] = []
    const { response } = await app(env.store, {
      onError: (error) => {
        seen.push(error)
        return new Response('too large', { status: 413 })
      },
    }).send(async (request) => {
      await getSession<Data>(request).set('blob', 'x'.repeat(420_000))
      return new Response('ok')
    })
    expect(response.status).toBe(413)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(seen[0]).toBeInstanceOf(SessionTooLargeError)
    expect(seen[0]?.code).toBe('SESSION_TOO_LARGE')
    expect(seen[0]?.message).toContain('400 KB')
    expect(env.counter.count()).toBe(0)
  })

  it('refuses a write that concurrent writes would push over 400 KB, with the same typed error', async () => {
    const env = await dynamoStore()
    const seen: string[] = []
    const sessions = app(env.store, {
      onError: (error) => {
        seen.push(error.code)
        return new Response('too large', { status: 413 })
      },
    })
    const { cookie } = await sessions.send(count)
    const bothLoaded = [deferred(), deferred()]
    const write = (key: 'a' | 'b', index: number) =>
      sessions.send(async (request) => {
        const session = getSession<Record<string, string>>(request)
        await session.get('count')
        bothLoaded[index]?.resolve()
        await Promise.all(bothLoaded.map(({ promise }) => promise))
        await session.set(key, 'x'.repeat(250_000)) // each fits alone; both do not
        return new Response(key)
      }, cookie?.value)
    const statuses = (await Promise.all([write('a', 0), write('b', 1)])).map(
      ({ response }) => response.status,
    )
    expect(statuses.sort()).toEqual([200, 413])
    expect(seen).toEqual(['SESSION_TOO_LARGE'])
  })

  it('refuses a key name DynamoDB cannot hold at set(), naming the limit, without a store call', async () => {
    const env = await dynamoStore()
    const { body } = await app(env.store).send(async (request) => {
      const session = getSession<Record<string, unknown>>(request)
      await expect(session.set('k'.repeat(65_536), 1)).rejects.toMatchObject({
        code: 'INVALID_SESSION_VALUE',
        message: expect.stringMatching(/65536 bytes.*limited to 1024 bytes/),
      })
      await session.set('é'.repeat(512), 1) // 1,024 bytes: the most a key may hold
      return new Response(String(Object.keys(await session.all()).length))
    })
    expect(body).toBe('1')
  })

  it('refuses values JSON cannot hold at set(), with a clear error', async () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const refused: Array<[unknown, RegExp]> = [
      [() => 1, /function/],
      [10n, /bigint/],
      [cyclic, /cycles/],
      [new Date(), /Date.*toISOString/],
      [new Map(), /Map/],
      [Number.NaN, /NaN/],
      [[1, undefined], /undefined/],
      // biome-ignore lint/suspicious/noSparseArray: a hole is what is being refused
      [[1, , 3], /hole/],
      [Object.assign([1], { x: 2 }), /named property "x"/],
      [{ list: Object.assign([], { note: 'dropped' }) }, /named property "note"/],
      [Symbol('s'), /symbol/],
    ]
    const env = await dynamoStore()
    const { body } = await app(env.store).send(async (request) => {
      const session = getSession<Record<string, unknown>>(request)
      for (const [value, message] of refused) {
        await expect(session.set('value', value)).rejects.toMatchObject({
          code: 'INVALID_SESSION_VALUE',
          message: expect.stringMatching(message),
        })
      }
      return new Response(String(await session.has('value')))
    })
    expect(body).toBe('false')
    expect(env.counter.count()).toBe(0)
  })
})
