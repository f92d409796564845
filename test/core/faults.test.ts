import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { hashSessionId } from '../../src/core/crypto.ts'
import { DynamoDBStore, failOpen, getSession, type SessionError } from '../../src/index.ts'
import { createSessionTable, localClient, scanAll, uniqueTableName } from '../support/dynamodb.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { app, count } from '../support/harness.ts'

describe('DynamoDB faults', () => {
  const client = localClient()
  let proxy: Awaited<ReturnType<typeof startFaultProxy>>
  let tableName = ''
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  const logged: string[] = []

  beforeAll(async () => {
    proxy = await startFaultProxy(inject('dynamodbEndpoint'))
    tableName = await createSessionTable(client, uniqueTableName())
    process.on('unhandledRejection', onUnhandled)
  })
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled)
    await proxy.close()
  })
  beforeEach(() => {
    proxy.clear()
    logged.length = 0
    vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args.join(' ')))
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /** A store reaching DynamoDB Local through the proxy, with the SDK's default retries. */
  const storeViaProxy = (timeout = 5000) =>
    new DynamoDBStore({
      tableName,
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      timeout,
    })
  const storedCount = async (id: string | undefined) =>
    (await storeViaProxy().load(await hashSessionId(id ?? '')))?.data.count

  /** A session with count 1, and the proxy's log cleared. */
  const established = async (options: Parameters<typeof app>[1] = {}) => {
    const sessions = app(storeViaProxy(), options)
    const { cookie } = await sessions.send(count)
    proxy.clear()
    return { sessions, cookie }
  }

  it('retries throttled reads and writes, then serves the request as usual', async () => {
    const { sessions, cookie } = await established()
    proxy.inject({ kind: 'throttle' }, { operation: 'GetItem', times: 2 })
    proxy.inject({ kind: 'throttle' }, { operation: 'UpdateItem' })
    const { body, response } = await sessions.send(count, cookie?.value)
    expect(response.status).toBe(200)
    expect(body).toBe('2')
    expect(proxy.operations).toEqual(['GetItem', 'GetItem', 'GetItem', 'UpdateItem', 'UpdateItem'])
    expect(await storedCount(cookie?.id)).toBe(2)
  })

  it('retries 5xx answers and dropped connections', async () => {
    const { sessions, cookie } = await established()
    proxy.inject({ kind: 'server-error' }, { operation: 'GetItem' })
    proxy.inject({ kind: 'drop' }, { operation: 'UpdateItem' })
    expect((await sessions.send(count, cookie?.value)).body).toBe('2')
    expect(await storedCount(cookie?.id)).toBe(2)
  })

  it('waits for slow answers within the time budget', async () => {
    const { sessions, cookie } = await established()
    proxy.inject({ kind: 'slow', ms: 300 }, { operation: 'GetItem' })
    expect((await sessions.send(count, cookie?.value)).body).toBe('2')
  })

  it('applies a change once when DynamoDB applied it but the answer was lost', async () => {
    const { sessions, cookie } = await established()
    proxy.inject({ kind: 'drop-after' }, { operation: 'UpdateItem' })
    expect((await sessions.send(count, cookie?.value)).body).toBe('2')
    // Setting a key to a value is idempotent: the SDK's retry writes the same change again.
    expect(proxy.operations).toEqual(['GetItem', 'UpdateItem', 'UpdateItem'])
    expect(await storedCount(cookie?.id)).toBe(2)
  })

  it('keeps a new session whole when its create was applied but the answer was lost', async () => {
    const sessions = app(storeViaProxy())
    proxy.clear()
    proxy.inject({ kind: 'drop-after' }, { operation: 'PutItem' })
    const { cookie } = await sessions.send(count)
    expect(await storedCount(cookie?.id)).toBe(1)
    expect((await sessions.send(count, cookie?.value)).body).toBe('2')
  })

  /** The items in the table bound to `user`. */
  const itemsOf = async (user: string) =>
    (await scanAll(client, tableName)).filter((item) => item.user_id?.S === user)
  const login = (user: string) => async (request: Request) => {
    const session = getSession<{ count: number }>(request)
    await session.regenerate()
    await session.setUser(user)
    await session.set('count', 10)
    return new Response('in')
  }
  const whoAmI = async (request: Request) => new Response((await getSession(request).getUser()) ?? 'nobody')

  it('keeps a new session once when its create was applied but the answer was lost: no phantom device', async () => {
    const sessions = app(storeViaProxy())
    proxy.inject({ kind: 'drop-after' }, { operation: 'PutItem' })
    const { cookie } = await sessions.send(login('lost-create'))
    expect(proxy.operations).toEqual(['PutItem', 'PutItem'])
    expect(await itemsOf('lost-create')).toHaveLength(1)
    expect((await sessions.send(whoAmI, cookie?.value)).body).toBe('lost-create')
  })

  it("keeps the session when regenerate()'s delete of the old item was applied but the answer was lost", async () => {
    const sessions = app(storeViaProxy())
    const first = await sessions.send(login('lost-move'))
    proxy.clear()
    proxy.inject({ kind: 'drop-after' }, { operation: 'TransactWriteItems' })
    const moved = await sessions.send(login('lost-move'), first.cookie?.value)
    expect(moved.response.status).toBe(200)
    expect(proxy.operations).toEqual(['GetItem', 'PutItem', 'TransactWriteItems', 'TransactWriteItems'])
    expect(moved.cookie?.id).not.toBe(first.cookie?.id)
    expect((await sessions.send(whoAmI, moved.cookie?.value)).body).toBe('lost-move')
    expect((await sessions.send(whoAmI, first.cookie?.value)).body).toBe('nobody')
    expect(await itemsOf('lost-move')).toHaveLength(1)
  })

  it("leaves no second item when regenerate()'s delete of the old item never answers", async () => {
    const sessions = app(storeViaProxy(400))
    const first = await sessions.send(login('hung-move'))
    proxy.clear()
    proxy.inject({ kind: 'hang' }, { operation: 'TransactWriteItems', times: 10 })
    const failed = await sessions.send(login('hung-move'), first.cookie?.value)
    expect(failed.response.status).toBe(503)
    expect(failed.response.headers.getSetCookie()).toEqual([])
    proxy.clear()
    expect(await itemsOf('hung-move')).toHaveLength(1)
    expect((await sessions.send(whoAmI, first.cookie?.value)).body).toBe('hung-move')
  })

  it('expires the cookie of a session the handler emptied when the delete was applied but the answer was lost', async () => {
    const { sessions, cookie } = await established()
    proxy.inject({ kind: 'drop-after' }, { operation: 'DeleteItem' })
    const emptied = await sessions.send(async (request) => {
      await getSession(request).clear()
      return new Response('cleared')
    }, cookie?.value)
    expect(proxy.operations).toEqual(['GetItem', 'DeleteItem', 'DeleteItem'])
    expect(emptied.cookie?.header).toMatch(/Max-Age=0/)
    expect(await storedCount(cookie?.id)).toBeUndefined()
  })

  // The SDK's standard retry strategy spends 5 of a 500-token quota per throttling retry: a storm
  // gets at most 100 retries from one client, then every throttled call fails at once.
  it('under a sustained throttle, retries until the SDK quota is spent, then fails fast, and recovers after', async () => {
    const store = storeViaProxy()
    const sessions = app(store)
    const { cookie } = await sessions.send(count)
    proxy.clear()
    proxy.inject({ kind: 'throttle' }, { operation: 'GetItem', times: 100_000 })
    const requests = 80
    const started = Date.now()
    const statuses: number[] = []
    for (let batch = 0; batch < requests; batch += 40) {
      const sent = Array.from({ length: 40 }, () => sessions.send(count, cookie?.value))
      for (const { response } of await Promise.all(sent)) statuses.push(response.status)
    }
    expect(statuses).toEqual(Array(requests).fill(503))
    const attempts = proxy.operations.filter((operation) => operation === 'GetItem').length
    expect(attempts).toBeGreaterThan(requests) // some calls were retried…
    expect(attempts).toBeLessThanOrEqual(requests + 100) // …but no more than the quota allows
    expect(Date.now() - started).toBeLessThan(20_000)
    proxy.clear()
    expect((await sessions.send(count, cookie?.value)).body).toBe('2')
  })

  it('fails closed within the time budget when DynamoDB never answers', async () => {
    const sessions = app(storeViaProxy(400))
    const { cookie } = await sessions.send(count)
    proxy.inject({ kind: 'hang' }, { times: 10 })
    const started = Date.now()
    const { response } = await sessions.send(count, cookie?.value)
    expect(response.status).toBe(503)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(Date.now() - started).toBeLessThan(4000) // bounded by the 400 ms budget, not by the hang
    expect(logged[0]).toMatch(/STORE_UNAVAILABLE.*GetItem.*\(fail closed\)/)
  })

  it('fails closed on persistent 5xx, writes nothing, and serves again once DynamoDB recovers', async () => {
    const { sessions, cookie } = await established()
    proxy.inject({ kind: 'server-error' }, { operation: 'UpdateItem', times: 10 })
    const failed = await sessions.send(count, cookie?.value)
    expect(failed.response.status).toBe(503)
    expect(failed.response.headers.getSetCookie()).toEqual([])
    expect(await storedCount(cookie?.id)).toBe(1)
    proxy.clear()
    expect((await sessions.send(count, cookie?.value)).body).toBe('2')
  })

  it('fail open: a failed load serves an empty session, saves nothing, and says so', async () => {
    const { sessions, cookie } = await established({ onError: failOpen })
    proxy.inject({ kind: 'server-error' }, { operation: 'GetItem', times: 10 })
    const { response, body } = await sessions.send(count, cookie?.value)
    expect(response.status).toBe(200)
    expect(body).toBe('1')
    expect(response.headers.getSetCookie()).toEqual([])
    expect(proxy.operations.every((operation) => operation === 'GetItem')).toBe(true)
    expect(logged[0]).toMatch(/STORE_UNAVAILABLE.*fail open: served with an empty session/)
    proxy.clear()
    expect(await storedCount(cookie?.id)).toBe(1)
  })

  it('fail open: a failed save sends the page without the change, and says so', async () => {
    const phases: string[] = []
    const { sessions, cookie } = await established({
      onError: (error: SessionError, request: Request, phase: 'load' | 'save' | 'unseal') => {
        phases.push(phase)
        return failOpen(error, request, phase)
      },
    })
    proxy.inject({ kind: 'server-error' }, { operation: 'UpdateItem', times: 10 })
    const { response, body } = await sessions.send(count, cookie?.value)
    expect(response.status).toBe(200)
    expect(body).toBe('2')
    expect(phases).toEqual(['save'])
    expect(logged[0]).toMatch(/fail open: served without saving the session/)
    proxy.clear()
    expect(await storedCount(cookie?.id)).toBe(1)
  })

  it('writes nothing for a request its client aborted', async () => {
    const { sessions, cookie } = await established()
    const controller = new AbortController()
    const { response } = await sessions.send(
      async (request) => {
        const session = getSession(request)
        await session.regenerate()
        await session.set('count', 100)
        controller.abort() // the client went away before the response
        return new Response('too late')
      },
      cookie?.value,
      { signal: controller.signal },
    )
    expect(response.headers.getSetCookie()).toEqual([])
    expect(proxy.operations).toEqual(['GetItem'])
    expect((await sessions.send(count, cookie?.value)).body).toBe('2') // the old session lives on
  })

  it('left no promise rejection unhandled', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(unhandled).toEqual([])
    expect((await scanAll(client, tableName)).length).toBeGreaterThan(0)
  })
})
