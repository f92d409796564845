// session.save(), session.reload() and session.update(key, fn), on MemoryStore and DynamoDB Local,
// including express-session's reload/save cases (test/session.js) re-expressed.
import { describe, expect, it } from 'vitest'
import { hashSessionId } from '../../src/core/crypto.ts'
import { DynamoDBStore, getSession, MemoryStore, SessionError, type Store } from '../../src/index.ts'
import type { SessionRecord, UpdateOptions } from '../../src/store/store.ts'
import { localClient } from '../support/dynamodb.ts'
import { app, count, deferred, dynamoStore } from '../support/harness.ts'

type Data = { count: number; note: string; a: number; b: number; cart: string[] }
const sessionOf = (request: Request) => getSession<Data>(request)
const text = (value: unknown) => new Response(JSON.stringify(value ?? null))

const stores: [string, () => Promise<Store>][] = [
  ['MemoryStore', async () => new MemoryStore()],
  ['DynamoDB Local', async () => (await dynamoStore()).store],
]

/** The stored data of the session behind a cookie id, read straight from the store. */
async function storedData(store: Store, id: string | undefined) {
  return (await store.load(await hashSessionId(id ?? '')))?.data
}

describe.each(stores)('on %s', (_, makeStore) => {
  describe('session.save()', () => {
    it('writes before the response: a request sent meanwhile already sees the change', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const saved = deferred()
      const release = deferred()
      const slow = sessions.send(async (request) => {
        await sessionOf(request).set('note', 'saved early')
        await sessionOf(request).save()
        saved.resolve()
        await release.promise
        return new Response('done')
      }, cookie?.value)
      await saved.promise
      const seen = await sessions.send(
        async (request) => text(await sessionOf(request).get('note')),
        cookie?.value,
      )
      expect(JSON.parse(seen.body)).toBe('saved early')
      release.resolve()
      await slow
      expect(await storedData(store, cookie?.id)).toEqual({ count: 1, note: 'saved early' })
    })

    it('of a new session stores it and still sets the cookie on the response', async () => {
      const store = await makeStore()
      const { cookie } = await app(store).send(async (request) => {
        await sessionOf(request).set('note', 'new')
        await sessionOf(request).save()
        return new Response('ok')
      })
      expect(cookie?.header).toMatch(/^sid=[^;]+;.*HttpOnly/)
      expect(await storedData(store, cookie?.id)).toEqual({ note: 'new' })
    })

    it('leaves the end of the request to write only what changed after it, so a concurrent change stays', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(async (request) => {
        await sessionOf(request).set('a', 1)
        return new Response('ok')
      })
      const release = deferred()
      const saved = deferred()
      const slow = sessions.send(async (request) => {
        await sessionOf(request).set('a', 2)
        await sessionOf(request).save()
        saved.resolve()
        await release.promise
        await sessionOf(request).set('b', 1)
        return new Response('ok')
      }, cookie?.value)
      await saved.promise
      // Another request changes `a` after the save: the end-of-request write must not undo it.
      await sessions.send(async (request) => {
        await sessionOf(request).set('a', 3)
        return new Response('ok')
      }, cookie?.value)
      release.resolve()
      await slow
      expect(await storedData(store, cookie?.id)).toEqual({ a: 3, b: 1 })
    })

    it('of a session emptied by clear() deletes it and expires the cookie', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const cleared = await sessions.send(async (request) => {
        await sessionOf(request).clear()
        await sessionOf(request).save()
        return new Response('ok')
      }, cookie?.value)
      expect(cleared.cookie?.header).toMatch(/^sid=; Max-Age=0;/)
      expect(await storedData(store, cookie?.id)).toBeUndefined()
    })

    it('of a session ended meanwhile stores nothing, brings nothing back and expires the cookie', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const ended = await sessions.send(async (request) => {
        await sessionOf(request).set('count', 5)
        await store.delete(await hashSessionId(cookie?.id ?? ''))
        await sessionOf(request).save()
        return text(await sessionOf(request).all())
      }, cookie?.value)
      expect(ended.response.status).toBe(200)
      expect(JSON.parse(ended.body)).toEqual({})
      expect(ended.cookie?.header).toMatch(/^sid=; Max-Age=0;/)
      expect(await storedData(store, cookie?.id)).toBeUndefined()
    })

    it('after regenerate() moves the data to the new id at once, and the response carries the new id', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const moved = await sessions.send(async (request) => {
        await sessionOf(request).regenerate()
        await sessionOf(request).save()
        await sessionOf(request).set('note', 'after')
        return new Response('ok')
      }, cookie?.value)
      expect(moved.cookie?.id).not.toBe(cookie?.id)
      expect(await storedData(store, cookie?.id)).toBeUndefined()
      expect(await storedData(store, moved.cookie?.id)).toEqual({ count: 1, note: 'after' })
    })
  })

  describe('session.reload()', () => {
    it("drops this request's unsaved changes and nothing is written for them", async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const reloaded = await sessions.send(async (request) => {
        await sessionOf(request).set('count', 100)
        await sessionOf(request).reload()
        return text(await sessionOf(request).get('count'))
      }, cookie?.value)
      expect(reloaded.body).toBe('1')
      expect(await storedData(store, cookie?.id)).toEqual({ count: 1 })
    })

    it('reads what another request wrote since this one first read the session', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const read = deferred()
      const release = deferred()
      const slow = sessions.send(async (request) => {
        const before = await sessionOf(request).get('count')
        read.resolve()
        await release.promise
        await sessionOf(request).reload()
        return text([before, await sessionOf(request).get('count')])
      }, cookie?.value)
      await read.promise
      await sessions.send(count, cookie?.value)
      release.resolve()
      expect(JSON.parse((await slow).body)).toEqual([1, 2])
    })

    it('of a session ended meanwhile reads it empty, expires the cookie and stores nothing', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const ended = await sessions.send(async (request) => {
        await sessionOf(request).get('count')
        await store.delete(await hashSessionId(cookie?.id ?? ''))
        await sessionOf(request).reload()
        return text(await sessionOf(request).all())
      }, cookie?.value)
      expect(JSON.parse(ended.body)).toEqual({})
      expect(ended.cookie?.header).toMatch(/^sid=; Max-Age=0;/)
      expect(await storedData(store, cookie?.id)).toBeUndefined()
    })

    it('after an unsaved regenerate() rereads the old data and still moves it to a new id', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const moved = await sessions.send(async (request) => {
        await sessionOf(request).regenerate()
        await sessionOf(request).set('count', 50)
        await sessionOf(request).reload()
        return text(await sessionOf(request).get('count'))
      }, cookie?.value)
      expect(moved.body).toBe('1')
      expect(moved.cookie?.id).not.toBe(cookie?.id)
      expect(await storedData(store, cookie?.id)).toBeUndefined()
      expect(await storedData(store, moved.cookie?.id)).toEqual({ count: 1 })
    })
  })

  describe("express-session's reload() and save() cases", () => {
    it('reload: should reload session from store', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(async (request) => {
        await sessionOf(request).set('note', 'hello')
        return new Response('ok')
      })
      const res = await sessions.send(async (request) => {
        await sessionOf(request).set('note', 'changed')
        // another request writes meanwhile
        await sessions.send(async (other) => {
          await sessionOf(other).set('note', 'from store')
          return new Response('ok')
        }, cookie?.value)
        await sessionOf(request).reload()
        return text(await sessionOf(request).get('note'))
      }, cookie?.value)
      expect(JSON.parse(res.body)).toBe('from store')
      expect(await storedData(store, cookie?.id)).toEqual({ note: 'from store' })
    })

    it('save: should save session to store', async () => {
      const store = await makeStore()
      const { cookie, body } = await app(store).send(async (request) => {
        await sessionOf(request).set('note', 'saved')
        await sessionOf(request).save()
        // readable from the store before the response is sent
        return text(await storedData(store, sessionOf(request).id))
      })
      expect(JSON.parse(body)).toEqual({ note: 'saved' })
      expect(await storedData(store, cookie?.id)).toEqual({ note: 'saved' })
    })

    it('save: should prevent end-of-request save (an unchanged session is not written again)', async () => {
      const store = await makeStore()
      const writes: string[] = []
      const counted = countingStore(store, writes)
      const sessions = app(counted)
      const { cookie } = await sessions.send(count)
      writes.length = 0
      await sessions.send(async (request) => {
        await sessionOf(request).set('note', 'once')
        await sessionOf(request).save()
        return new Response('ok')
      }, cookie?.value)
      expect(writes).toEqual(['update'])
    })

    it('save: should prevent end-of-request save on reloaded session', async () => {
      const store = await makeStore()
      const writes: string[] = []
      const sessions = app(countingStore(store, writes))
      const { cookie } = await sessions.send(count)
      writes.length = 0
      await sessions.send(async (request) => {
        await sessionOf(request).reload()
        await sessionOf(request).set('note', 'once')
        await sessionOf(request).save()
        return new Response('ok')
      }, cookie?.value)
      expect(writes).toEqual(['update'])
      expect(await storedData(store, cookie?.id)).toEqual({ count: 1, note: 'once' })
    })
  })

  describe('session.update(key, fn)', () => {
    it('counts every one of 20 concurrent increments (10 in flight) on two middleware instances', async () => {
      const store = await makeStore()
      const [first, second] = [app(store), app(store)]
      const increment = async (request: Request) =>
        text(await sessionOf(request).update('count', (value = 0) => value + 1))
      const { cookie } = await first.send(increment)
      await runBounded(19, 10, (index) => (index % 2 ? first : second).send(increment, cookie?.value))
      expect(await storedData(store, cookie?.id)).toEqual({ count: 20 })
    })

    it('keeps both changes where set() would lose one: two requests appending to one cart', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(async (request) => {
        await sessionOf(request).set('cart', [])
        return new Response('ok')
      })
      const both = deferred()
      let read = 0
      const add = (item: string) =>
        sessions.send(async (request) => {
          await sessionOf(request).get('cart') // both requests read the cart before either writes
          if (++read === 2) both.resolve()
          await both.promise
          await sessionOf(request).update('cart', (cart = []) => [...cart, item])
          return new Response('ok')
        }, cookie?.value)
      await Promise.all([add('apple'), add('pear')])
      const cart = (await storedData(store, cookie?.id))?.cart as string[]
      expect([...cart].sort()).toEqual(['apple', 'pear'])
    })

    it('creates a session when there is none, and sets its cookie', async () => {
      const store = await makeStore()
      const { cookie, body } = await app(store).send(async (request) =>
        text(await sessionOf(request).update('count', (value = 0) => value + 1)),
      )
      expect(body).toBe('1')
      expect(cookie?.header).toMatch(/^sid=/)
      expect(await storedData(store, cookie?.id)).toEqual({ count: 1 })
    })

    it('removes the key when fn returns undefined, and leaves other unsaved changes to the end of the request', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(async (request) => {
        await sessionOf(request).set('a', 1)
        await sessionOf(request).set('b', 1)
        return new Response('ok')
      })
      const midway = deferred()
      const release = deferred()
      const slow = sessions.send(async (request) => {
        await sessionOf(request).set('note', 'later')
        await sessionOf(request).update('a', () => undefined)
        midway.resolve()
        await release.promise
        return new Response('ok')
      }, cookie?.value)
      await midway.promise
      expect(await storedData(store, cookie?.id)).toEqual({ b: 1 })
      release.resolve()
      await slow
      expect(await storedData(store, cookie?.id)).toEqual({ b: 1, note: 'later' })
    })

    it('gives up with SESSION_CONFLICT when the key changes under every attempt, writing nothing of its own', async () => {
      const base = await makeStore()
      const store = alwaysRaced(base)
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      let calls = 0
      const { body } = await sessions.send(async (request) => {
        try {
          await sessionOf(request).update('count', (value = 0) => {
            calls += 1
            return value + 1000
          })
          return new Response('written')
        } catch (error) {
          return new Response(error instanceof SessionError ? error.code : 'other')
        }
      }, cookie?.value)
      expect(body).toBe('SESSION_CONFLICT')
      expect(calls).toBe(20)
      // only the racing writer's changes landed: 1 + 20 rival increments, none of the +1000s
      expect((await storedData(base, cookie?.id))?.count).toBe(21)
    })

    it('writes nothing when the session was ended meanwhile, and does not bring it back', async () => {
      const store = await makeStore()
      const sessions = app(store)
      const { cookie } = await sessions.send(count)
      const res = await sessions.send(async (request) => {
        await sessionOf(request).get('count')
        await store.delete(await hashSessionId(cookie?.id ?? ''))
        return text(await sessionOf(request).update('count', (value = 0) => value + 1))
      }, cookie?.value)
      expect(res.body).toBe('null')
      expect(await storedData(store, cookie?.id)).toBeUndefined()
      expect(res.cookie?.header).toMatch(/^sid=; Max-Age=0;/)
    })
  })
})

describe('session.update() on DynamoDB Local with values stored sealed or gzipped', () => {
  it.each([
    ['encrypt: true (a fresh seal each write)', { encrypt: true }, {}],
    ['compress: true (large values gzipped)', {}, { compress: true }],
  ])('counts every concurrent append with %s', async (_, sessionOptions, storeOptions) => {
    const env = await dynamoStore()
    const store = new DynamoDBStore({ client: env.client, tableName: env.tableName, ...storeOptions })
    const other = new DynamoDBStore({ client: localClient(), tableName: env.tableName, ...storeOptions })
    const [first, second] = [app(store, sessionOptions), app(other, sessionOptions)]
    const filler = 'x'.repeat(200) // past compress's 1024 characters after a few items
    const append = (item: string) => async (request: Request) =>
      text(await sessionOf(request).update('cart', (cart = []) => [...cart, `${item}-${filler}`]))
    const { cookie } = await first.send(append('item-0'))
    await runBounded(11, 6, (index) =>
      (index % 2 ? first : second).send(append(`item-${index + 1}`), cookie?.value),
    )
    const cart = (
      await first.send(async (request) => text(await sessionOf(request).get('cart')), cookie?.value)
    ).body
    expect(
      (JSON.parse(cart) as string[]).map((item) => item.split('-').slice(0, 2).join('-')).sort(),
    ).toEqual(Array.from({ length: 12 }, (_, index) => `item-${index}`).sort())
    const raw = await store.load(await hashSessionId(cookie?.id ?? ''))
    if ('encrypt' in sessionOptions) expect(JSON.stringify(raw?.data.cart)).toContain('$sealed')
  })
})

/** Runs `total` tasks with at most `limit` in flight at once. */
async function runBounded<T>(
  total: number,
  limit: number,
  task: (index: number) => Promise<T>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < total) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(limit, total) }, worker))
}

/** `store`, noting each write it is asked for (the store itself is real). */
function countingStore(store: Store, writes: string[]): Store {
  const noted = <T>(name: string, write: () => Promise<T>) => {
    writes.push(name)
    return write()
  }
  return {
    load: (key) => store.load(key),
    create: (record) => noted('create', () => store.create(record)),
    update: (record, keys, options) => noted('update', () => store.update(record, keys, options)),
    touch: (record) => noted('touch', () => store.touch(record)),
    delete: (key, options) => noted('delete', () => store.delete(key, options)),
  }
}

/**
 * Fault injection: before each compare-and-swap write, a rival request increments the same key
 * for real, so every attempt meets a genuine conflict.
 */
function alwaysRaced(store: Store): Store {
  return {
    load: (key) => store.load(key),
    create: (record) => store.create(record),
    touch: (record) => store.touch(record),
    delete: (key, options) => store.delete(key, options),
    async update(record: SessionRecord, keys: readonly string[], options?: UpdateOptions) {
      if (options?.ifValue) {
        const current = (await store.load(record.key)) as SessionRecord
        const rival = { ...current, data: { ...current.data, count: (current.data.count as number) + 1 } }
        await store.update(rival, ['count'])
      }
      return store.update(record, keys, options)
    },
  }
}
