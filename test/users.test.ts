import { CreateTableCommand, type DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSessionId, hashSessionId } from '../src/crypto.ts'
import {
  DynamoDBStore,
  destroyUserSessions,
  getSession,
  listUserSessions,
  MemoryStore,
  type SessionRecord,
  type Store,
  type UserSession,
} from '../src/index.ts'
import { countCalls, localClient, uniqueTableName } from './dynamodb.ts'
import { app, deferred } from './harness.ts'

/** A sessions table with the user index, projecting everything so pages fill up fast. */
async function tableWithUserIndex(client: DynamoDBClient): Promise<string> {
  const tableName = uniqueTableName('users')
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'session_id', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'session_id', AttributeType: 'S' },
        { AttributeName: 'user_id', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'user_id-index',
          KeySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  )
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName })
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

  it('keeps a destroyed session destroyed when one of its requests is in flight', async () => {
    const sessions = app(store)
    const { cookie } = await sessions.send(login('alan'))
    const loaded = deferred()
    const loggedOut = deferred()
    const slow = sessions.send(async (request) => {
      const session = getSession<{ cart: string[] }>(request)
      await session.get('cart')
      loaded.resolve()
      await loggedOut.promise
      await session.set('cart', ['late'])
      return new Response('late')
    }, cookie?.value)
    await loaded.promise
    expect(await destroyUserSessions(store, 'alan', { settleMs: 0 })).toBe(1)
    loggedOut.resolve()
    await slow
    expect(await listUserSessions(store, 'alan')).toEqual([])
    expect((await sessions.send(whoAmI, cookie?.value)).body).toBe('nobody')
  })

  it('pages through hundreds of sessions of one user', async () => {
    const counted = localClient()
    const counter = countCalls(counted)
    const big = new DynamoDBStore({ client: counted, tableName: await tableWithUserIndex(client) })
    const now = Math.floor(Date.now() / 1000)
    const filler = 'x'.repeat(4000) // ~1.2 MB in all: DynamoDB answers a query in pages of 1 MB
    await Promise.all(
      Array.from({ length: 300 }, async () => {
        const key = await hashSessionId(createSessionId())
        await big.create({
          key,
          data: { filler },
          createdAt: now,
          updatedAt: now,
          expiresAt: now + 600,
          userId: 'many',
        })
      }),
    )
    counter.reset()
    expect(await listUserSessions(big, 'many')).toHaveLength(300)
    expect(counter.count('QueryCommand')).toBeGreaterThan(1)
    expect(await destroyUserSessions(big, 'many', { settleMs: 0 })).toBe(300)
    expect(await listUserSessions(big, 'many')).toEqual([])
  })

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
