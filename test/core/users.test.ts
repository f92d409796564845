import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { beforeAll, describe, expect, it } from 'vitest'
import { hashSessionId } from '../../src/core/crypto.ts'
import {
  createTable,
  DynamoDBStore,
  destroyUserSessions,
  getSession,
  listUserSessions,
  MemoryStore,
  type SessionRecord,
  type Store,
  type UserSession,
} from '../../src/index.ts'
import { countCalls, localClient, uniqueTableName } from '../support/dynamodb.ts'
import { app, deferred } from '../support/harness.ts'

/**
 * A sessions table made by createTable(), as production makes it: its user index projects keys
 * only, so listing reads the times from the table itself.
 */
async function tableWithUserIndex(client: DynamoDBClient): Promise<string> {
  const tableName = uniqueTableName('users')
  await createTable({ client, tableName, maxWaitTime: 30 })
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
  expect(
    table?.GlobalSecondaryIndexes?.map(({ IndexName, KeySchema, Projection }) => ({
      IndexName,
      KeySchema,
      Projection,
    })),
  ).toEqual([
    {
      IndexName: 'user_id-index',
      KeySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
  ])
  return tableName
}

const login = (user: string) => async (request: Request) => {
  const session = getSession<{ cart: string[] }>(request)
  await session.regenerate()
  await session.setUser(user)
  await session.set('cart', [])
  return new Response('in')
}
const whoAmI = async (request: Request) => new Response((await getSession(request).getUser()) ?? 'nobody')

describe('log out everywhere, on DynamoDB', () => {
  const client = localClient()
  let store: DynamoDBStore
  beforeAll(async () => {
    store = new DynamoDBStore({ client, tableName: await tableWithUserIndex(client) })
  })

  it("lists a user's live sessions without their cookie ids", async () => {
    const sessions = app(store)
    const devices = await Promise.all([1, 2, 3].map(() => sessions.send(login('ada'))))
    await sessions.send(login('grace'))
    const listed = await listUserSessions(store, 'ada')
    expect(listed).toHaveLength(3)
    const keys = await Promise.all(devices.map(({ cookie }) => hashSessionId(cookie?.id ?? '')))
    expect(listed.map(({ key }) => key).sort()).toEqual(keys.sort())
    for (const session of listed) {
      expect(session.expiresAt).toBeGreaterThan(session.updatedAt)
      expect(session.createdAt).toBeLessThanOrEqual(session.updatedAt)
      for (const { cookie } of devices) expect(JSON.stringify(session)).not.toContain(cookie?.id)
    }
  })

  it('ends all sessions of a user but the current one, and leaves other users alone', async () => {
    const sessions = app(store)
    const [current, phone, laptop] = await Promise.all([1, 2, 3].map(() => sessions.send(login('edsger'))))
    const other = await sessions.send(login('barbara'))
    const { body } = await sessions.send(async (request) => {
      const ended = await destroyUserSessions(store, 'edsger', { except: getSession(request), settleMs: 10 })
      return new Response(String(ended))
    }, current?.cookie?.value)
    expect(body).toBe('2')
    expect((await sessions.send(whoAmI, current?.cookie?.value)).body).toBe('edsger')
    expect((await sessions.send(whoAmI, phone?.cookie?.value)).body).toBe('nobody')
    expect((await sessions.send(whoAmI, laptop?.cookie?.value)).body).toBe('nobody')
    expect((await sessions.send(whoAmI, other.cookie?.value)).body).toBe('barbara')
    expect(await listUserSessions(store, 'edsger')).toHaveLength(1)
  })

  // OWASP's advice on a password change: a new id for this device, every other device signed out.
  it.each([
    ['regenerate() first', true],
    ['destroyUserSessions() first', false],
  ])(
    'keeps the device that changed the password signed in, under a new id (%s)',
    async (_, regenerateFirst) => {
      const user = `password-change-${regenerateFirst}`
      const sessions = app(store)
      const [current, phone, laptop] = await Promise.all([1, 2, 3].map(() => sessions.send(login(user))))
      const changed = await sessions.send(async (request) => {
        const session = getSession(request)
        if (regenerateFirst) await session.regenerate()
        const ended = await destroyUserSessions(store, user, { except: session, settleMs: 10 })
        if (!regenerateFirst) await session.regenerate()
        return new Response(String(ended))
      }, current?.cookie?.value)
      expect(changed.body).toBe('2')
      expect(changed.cookie?.id).toBeDefined()
      expect(changed.cookie?.id).not.toBe(current?.cookie?.id)
      expect((await sessions.send(whoAmI, changed.cookie?.value)).body).toBe(user)
      for (const device of [current, phone, laptop]) {
        expect((await sessions.send(whoAmI, device?.cookie?.value)).body).toBe('nobody')
      }
      const listed = await listUserSessions(store, user)
      expect(listed.map(({ key }) => key)).toEqual([await hashSessionId(changed.cookie?.id ?? '')])
    },
  )

  /** A request of `user`'s session that read it, then writes after "log out everywhere" ran meanwhile. */
  async function writeAfterLogout(sessions: ReturnType<typeof app>, user: string) {
    const { cookie } = await sessions.send(login(user))
    const loaded = deferred()
    const loggedOut = deferred()
    const late = sessions.send(async (request) => {
      const session = getSession<{ cart: string[] }>(request)
      await session.get('cart')
      loaded.resolve()
      await loggedOut.promise
      await session.set('cart', ['late'])
      return new Response('late')
    }, cookie?.value)
    await loaded.promise
    const ended = await destroyUserSessions(store, user, { settleMs: 0 })
    loggedOut.resolve()
    return { cookie, ended, late: await late }
  }

  it('keeps a destroyed session destroyed when one of its requests is in flight', async () => {
    const sessions = app(store)
    const { cookie, ended } = await writeAfterLogout(sessions, 'alan')
    expect(ended).toBe(1)
    expect(await listUserSessions(store, 'alan')).toEqual([])
    expect((await sessions.send(whoAmI, cookie?.value)).body).toBe('nobody')
  })

  it('reports a change dropped because a logout ended the session meanwhile, to onError', async () => {
    const reported: string[] = []
    const sessions = app(store, {
      onError: (error, _request, phase) => {
        reported.push(`${phase}:${error.code}`)
        return new Response('your change was not saved: you were signed out', { status: 409 })
      },
    })
    const { late } = await writeAfterLogout(sessions, 'ada-reported')
    expect(reported).toEqual(['save:SESSION_ENDED'])
    expect(late.response.status).toBe(409)
    expect(late.cookie).toBeUndefined()
    expect(await listUserSessions(store, 'ada-reported')).toEqual([])
  })

  it('keeps it destroyed when a request in flight calls regenerate() afterwards', async () => {
    const sessions = app(store)
    const { cookie } = await sessions.send(login('grace-regenerating'))
    const loaded = deferred()
    const loggedOut = deferred()
    const slow = sessions.send(async (request) => {
      const session = getSession(request)
      await session.getUser()
      loaded.resolve()
      await loggedOut.promise
      await session.regenerate() // a privilege change, in the request the logout raced
      return new Response('regenerated')
    }, cookie?.value)
    await loaded.promise
    expect(await destroyUserSessions(store, 'grace-regenerating', { settleMs: 0 })).toBe(1)
    loggedOut.resolve()
    const late = await slow
    expect(late.cookie).toBeUndefined()
    expect(await listUserSessions(store, 'grace-regenerating')).toEqual([])
  })

  it('pages through a thousand sessions of one user with the longest user id', async () => {
    const counted = localClient()
    const counter = countCalls(counted)
    const big = new DynamoDBStore({ client: counted, tableName: await tableWithUserIndex(client) })
    const sessions = app(big)
    // The keys-only index holds about 1.1 KB per session with a 1,024-character user id (the
    // longest setUser() takes), so a thousand of them fill more than DynamoDB's 1 MB query page.
    const user = 'u'.repeat(1024)
    const cookies: string[] = []
    for (let first = 0; first < 1000; first += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => sessions.send(login(user))))
      cookies.push(...batch.map(({ cookie }) => cookie?.id ?? ''))
    }
    const keys = await Promise.all(cookies.map((id) => hashSessionId(id)))
    expect(new Set(keys).size).toBe(1000)

    counter.reset()
    const listed = await listUserSessions(big, user)
    expect(counter.count('QueryCommand')).toBeGreaterThan(1)
    expect(counter.count('BatchGetItemCommand')).toBeGreaterThanOrEqual(10) // 100 keys at most each
    expect(listed.map(({ key }) => key).sort()).toEqual(keys.sort())
    for (const session of listed) expect(session.expiresAt).toBeGreaterThan(session.updatedAt)

    counter.reset()
    expect(await destroyUserSessions(big, user, { settleMs: 0 })).toBe(1000)
    expect(counter.count('DeleteItemCommand')).toBe(1000)
    expect(await listUserSessions(big, user)).toEqual([])
    for (const id of cookies.slice(0, 3)) expect(await big.load(await hashSessionId(id))).toBeUndefined()
  }, 60_000)

  it('also ends a session the eventually consistent index did not show yet', async () => {
    // A fake only to inject the index's lag: the first look misses the newest session.
    class LaggingIndex extends DynamoDBStore {
      looks = 0
      override async findByUser(userId: string): Promise<UserSession[]> {
        const found = await super.findByUser(userId)
        return this.looks++ === 0 ? found.slice(1) : found
      }
    }
    const tableName = await tableWithUserIndex(client)
    const laggingStore = new LaggingIndex({ client, tableName })
    const sessions = app(laggingStore)
    const devices = await Promise.all([1, 2].map(() => sessions.send(login('lin'))))
    expect(await destroyUserSessions(laggingStore, 'lin', { settleMs: 50 })).toBe(2)
    for (const { cookie } of devices) expect((await sessions.send(whoAmI, cookie?.value)).body).toBe('nobody')
  })
})

describe('log out everywhere, in memory', () => {
  it('binds, lists and ends sessions the same way', async () => {
    const store: Store = new MemoryStore()
    const sessions = app(store)
    const devices = await Promise.all([1, 2].map(() => sessions.send(login('mem'))))
    expect(await listUserSessions(store, 'mem')).toHaveLength(2)
    const unbound = await sessions.send(async (request) => {
      await getSession(request).setUser(undefined)
      return new Response('unbound')
    }, devices[0]?.cookie?.value)
    expect(unbound.response.status).toBe(200)
    expect(await listUserSessions(store, 'mem')).toHaveLength(1)
    expect(await destroyUserSessions(store, 'mem', { settleMs: 0 })).toBe(1)
    expect((await sessions.send(whoAmI, devices[1]?.cookie?.value)).body).toBe('nobody')
    const record: SessionRecord | undefined = await store.load(
      await hashSessionId(devices[0]?.cookie?.id ?? ''),
    )
    expect(record?.userId).toBeUndefined()
  })
})
