// DynamoDBStore on AWS's DynamoDB Local: the raw items it writes, its options, its size limit, its errors.
import { createServer, type Socket } from 'node:net'
import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { itemSize, MAX_ITEM_BYTES } from '../../src/dynamodb/item.ts'
import type { DynamoDBStoreOptions } from '../../src/dynamodb/options.ts'
import { DynamoDBStore } from '../../src/dynamodb/store.ts'
import { SessionError, SessionStoreError, SessionTooLargeError } from '../../src/errors.ts'
import { nowInSeconds, type SessionRecord } from '../../src/store/store.ts'
import { countCalls, createSessionTable, localClient, scanAll, uniqueTableName } from '../support/dynamodb.ts'

const client = localClient()
afterAll(() => client.destroy())

let keys = 0
/** A live record; keys all have the same length, so items of equal data have equal sizes. */
function newRecord(data: Record<string, unknown> = { user: 'ada' }): SessionRecord {
  keys += 1
  const now = nowInSeconds()
  return {
    key: `key-${String(keys).padStart(4, '0')}`,
    data,
    createdAt: now - 100,
    updatedAt: now - 10,
    expiresAt: now + 3600,
  }
}

const n = (value: number): AttributeValue => ({ N: String(value) })
const json = (value: unknown): AttributeValue => ({ S: JSON.stringify(value) })

async function itemOf(tableName: string, keyAttribute: string, key: string) {
  const items = await scanAll(client, tableName)
  return items.find((item) => item[keyAttribute]?.S === key)
}

describe('item layout with the default options', () => {
  let tableName: string
  let store: DynamoDBStore
  beforeAll(async () => {
    tableName = await createSessionTable(client, uniqueTableName('layout'))
    store = new DynamoDBStore({ client, tableName })
  })

  it('create writes session_id (S), data (a map of JSON strings), created_at, updated_at and expire_at (N)', async () => {
    const record = newRecord({ user: 'ada', cart: [1, { sku: 'b' }], admin: false })
    await store.create(record)
    expect(await scanAll(client, tableName)).toContainEqual({
      session_id: { S: record.key },
      data: { M: { user: json('ada'), cart: json([1, { sku: 'b' }]), admin: json(false) } },
      created_at: n(record.createdAt),
      updated_at: n(record.updatedAt),
      expire_at: n(record.expiresAt),
    })
  })

  it('escapes the map names "", "__proto__" and those starting with "~" with a leading "~"', async () => {
    const data = JSON.parse('{"": 1, "__proto__": 2, "~a": 3, "a~": 4}') as Record<string, unknown>
    const record = newRecord(data)
    await store.create(record)
    const item = await itemOf(tableName, 'session_id', record.key)
    expect(item?.data).toEqual({ M: { '~': json(1), '~__proto__': json(2), '~~a': json(3), 'a~': json(4) } })
    expect((await store.load(record.key))?.data).toEqual(data)
  })

  it('update sets the changed map entries, removes dropped ones, moves updated_at and expire_at, keeps the rest', async () => {
    const record = newRecord({ a: 1, b: 2, c: 3 })
    await store.create(record)
    const next = {
      ...record,
      data: { a: 10, b: 20 },
      updatedAt: record.updatedAt + 5,
      expiresAt: record.expiresAt + 5,
    }
    expect(await store.update(next, ['a', 'c'])).toBe(true)
    expect(await itemOf(tableName, 'session_id', record.key)).toEqual({
      session_id: { S: record.key },
      data: { M: { a: json(10), b: json(2) } },
      created_at: n(record.createdAt),
      updated_at: n(next.updatedAt),
      expire_at: n(next.expiresAt),
      version: n(1), // one update so far
    })
  })

  for (const count of [150, 160]) {
    // 150 keys fit one expression as key-by-key changes; past that the whole map is replaced.
    it(`update of ${count} keys at once writes every one of them`, async () => {
      const record = newRecord({ keep: 'me', drop: 1 })
      await store.create(record)
      const many = Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]))
      const next = { ...record, data: { keep: 'me', ...many } }
      expect(await store.update(next, [...Object.keys(many), 'drop'])).toBe(true)
      const item = await itemOf(tableName, 'session_id', record.key)
      expect(Object.keys(item?.data?.M ?? {})).toHaveLength(count + 1)
      expect(item?.data?.M?.[`k${count - 1}`]).toEqual(json(count - 1))
      expect((await store.load(record.key))?.data).toEqual(next.data)
    })
  }

  it('takes a version attribute of 0, written by hand, as no update yet', async () => {
    const record = newRecord({ a: 1 })
    await store.create(record)
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { session_id: { S: record.key } },
        UpdateExpression: 'SET version = :zero',
        ExpressionAttributeValues: { ':zero': { N: '0' } },
      }),
    )
    expect((await store.load(record.key))?.version).toBe(0)
    expect(await store.update({ ...record, data: { a: 2 } }, ['a'], { ifUnchanged: true })).toBe(true)
    expect(await store.delete(record.key, { onlyIf: { version: 1 } })).toBe(true)
  })

  it('touch changes only updated_at and expire_at of the item', async () => {
    const record = newRecord({ a: 1 })
    await store.create(record)
    const before = await itemOf(tableName, 'session_id', record.key)
    expect(
      await store.touch({
        key: record.key,
        updatedAt: record.updatedAt + 7,
        expiresAt: record.expiresAt + 7,
      }),
    ).toBe(true)
    expect(await itemOf(tableName, 'session_id', record.key)).toEqual({
      ...before,
      updated_at: n(record.updatedAt + 7),
      expire_at: n(record.expiresAt + 7),
    })
  })

  it('reads an item it did not write (no data map, or a value that is not JSON) as no session', async () => {
    const expires = n(nowInSeconds() + 3600)
    const foreign = [
      { session_id: { S: 'foreign-1' }, expire_at: expires },
      { session_id: { S: 'foreign-2' }, data: { S: '{"a":1}' }, expire_at: expires },
      { session_id: { S: 'foreign-3' }, data: { M: { a: { S: 'not json' } } }, expire_at: expires },
      { session_id: { S: 'foreign-4' }, data: { M: { a: { N: '1' } } }, expire_at: expires },
      { session_id: { S: 'foreign-5' }, data: { M: { a: json(1) } } },
    ]
    for (const item of foreign) await client.send(new PutItemCommand({ TableName: tableName, Item: item }))
    for (const item of foreign) expect(await store.load(item.session_id.S)).toBeUndefined()
  })
})

describe('custom layout: keyAttribute, keyPrefix, sortKey, dataAttribute, expiresAttribute', () => {
  let tableName: string
  const options = (sortValue: string): Omit<DynamoDBStoreOptions, 'tableName'> => ({
    client,
    keyAttribute: 'pk',
    keyPrefix: 'SESSION#',
    sortKey: { attribute: 'sk', value: sortValue },
    dataAttribute: 'payload',
    expiresAttribute: 'ttl',
  })
  beforeAll(async () => {
    tableName = await createSessionTable(client, uniqueTableName('single-table'), {
      keyAttribute: 'pk',
      sortKey: 'sk',
    })
  })

  it('writes items under the prefixed key and the sort value, with the data and expiry in the named attributes', async () => {
    const store = new DynamoDBStore({ tableName, ...options('SESSION') })
    const record = newRecord({ user: 'ada' })
    await store.create(record)
    const expected = {
      pk: { S: `SESSION#${record.key}` },
      sk: { S: 'SESSION' },
      payload: { M: { user: json('ada') } },
      created_at: n(record.createdAt),
      updated_at: n(record.updatedAt),
      ttl: n(record.expiresAt),
    }
    expect(await itemOf(tableName, 'pk', `SESSION#${record.key}`)).toEqual(expected)

    const next = {
      ...record,
      data: { user: 'bob' },
      updatedAt: record.updatedAt + 1,
      expiresAt: record.expiresAt + 1,
    }
    expect(await store.update(next, ['user'])).toBe(true)
    expect(await itemOf(tableName, 'pk', `SESSION#${record.key}`)).toEqual({
      ...expected,
      payload: { M: { user: json('bob') } },
      updated_at: n(next.updatedAt),
      ttl: n(next.expiresAt),
      version: n(1),
    })
    expect(await store.load(record.key)).toEqual({ ...next, version: 1 })
    await store.delete(record.key)
    expect(await itemOf(tableName, 'pk', `SESSION#${record.key}`)).toBeUndefined()
  })

  it('two stores with different sort values in one table do not see each other’s sessions', async () => {
    const web = new DynamoDBStore({ tableName, ...options('WEB') })
    const admin = new DynamoDBStore({ tableName, ...options('ADMIN') })
    const record = newRecord({ app: 'web' })
    const other = { ...record, data: { app: 'admin' } }
    expect(await web.create(record)).toBe(true)
    expect(await admin.load(record.key)).toBeUndefined()
    expect(await admin.touch(record)).toBe(false)
    expect(await admin.update(other, ['app'])).toBe(false)
    expect(await admin.create(other)).toBe(true) // same key, different sort value: no collision

    expect(await web.load(record.key)).toEqual(record)
    expect(await admin.load(record.key)).toEqual(other)
    await admin.delete(record.key)
    expect(await admin.load(record.key)).toBeUndefined()
    expect(await web.load(record.key)).toEqual(record)
    const items = (await scanAll(client, tableName)).filter((item) => item.pk?.S === `SESSION#${record.key}`)
    expect(items.map((item) => item.sk?.S)).toEqual(['WEB'])
  })

  it('two stores with different key prefixes in one table do not see each other’s sessions', async () => {
    const plainTable = await createSessionTable(client, uniqueTableName('prefixes'))
    const a = new DynamoDBStore({ client, tableName: plainTable, keyPrefix: 'a:' })
    const b = new DynamoDBStore({ client, tableName: plainTable, keyPrefix: 'b:' })
    const record = newRecord({ owner: 'a' })
    expect(await a.create(record)).toBe(true)
    expect(await b.load(record.key)).toBeUndefined()
    expect(await b.create({ ...record, data: { owner: 'b' } })).toBe(true)
    expect((await a.load(record.key))?.data).toEqual({ owner: 'a' })
    expect((await scanAll(client, plainTable)).map((item) => item.session_id?.S).sort()).toEqual([
      `a:${record.key}`,
      `b:${record.key}`,
    ])
  })
})

describe('consistentRead', () => {
  let tableName: string
  beforeAll(async () => {
    tableName = await createSessionTable(client, uniqueTableName('consistent'))
  })

  /** The ConsistentRead of every GetItem the client sends. */
  function captureConsistentRead(target: DynamoDBClient): (boolean | undefined)[] {
    const seen: (boolean | undefined)[] = []
    target.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetItemCommand') {
          seen.push((args.input as { ConsistentRead?: boolean }).ConsistentRead)
        }
        return next(args)
      },
      { step: 'initialize' },
    )
    return seen
  }

  it('is true by default', async () => {
    const own = localClient()
    const seen = captureConsistentRead(own)
    await new DynamoDBStore({ client: own, tableName }).load('any')
    own.destroy()
    expect(seen).toEqual([true])
  })

  it('is false with consistentRead: false', async () => {
    const own = localClient()
    const seen = captureConsistentRead(own)
    await new DynamoDBStore({ client: own, tableName, consistentRead: false }).load('any')
    own.destroy()
    expect(seen).toEqual([false])
  })
})

describe('DynamoDB’s 400 KB item limit', () => {
  let tableName: string
  let own: DynamoDBClient
  let store: DynamoDBStore
  let calls: ReturnType<typeof countCalls>
  beforeAll(async () => {
    own = localClient()
    calls = countCalls(own)
    tableName = await createSessionTable(own, uniqueTableName('limit'))
    store = new DynamoDBStore({ client: own, tableName })
  })
  afterAll(() => own.destroy())

  const expectTooLarge = (error: unknown) => {
    expect(error).toBeInstanceOf(SessionTooLargeError)
    expect(error).toBeInstanceOf(SessionError)
    const tooLarge = error as SessionTooLargeError
    expect(tooLarge.code).toBe('SESSION_TOO_LARGE')
    expect(tooLarge.message).toMatch(/400 KB/)
    expect(tooLarge.limit).toBe(MAX_ITEM_BYTES)
    return tooLarge
  }

  it('create refuses a record over the limit with SessionTooLargeError, sending no PutItem', async () => {
    const record = newRecord({ blob: 'x'.repeat(420_000) })
    calls.reset()
    const error = await store.create(record).catch((e: unknown) => e)
    expect(expectTooLarge(error).size).toBeGreaterThan(MAX_ITEM_BYTES)
    expect(calls.count('PutItemCommand')).toBe(0)
    expect(calls.count()).toBe(0)
    expect(await store.load(record.key)).toBeUndefined()
  })

  it('counts the whole item: its size is itemSize of the item create would write', async () => {
    const record = newRecord({ blob: 'x'.repeat(420_000) })
    const error = (await store.create(record).catch((e: unknown) => e)) as SessionTooLargeError
    const item = {
      session_id: { S: record.key },
      data: { M: { blob: json(record.data.blob) } },
      created_at: n(record.createdAt),
      updated_at: n(record.updatedAt),
      expire_at: n(record.expiresAt),
    }
    expect(error.size).toBe(itemSize(item))
  })

  it('update refuses a record over the limit, sending no UpdateItem, and the stored record stays', async () => {
    const record = newRecord({ small: 1 })
    await store.create(record)
    calls.reset()
    const error = await store
      .update({ ...record, data: { small: 1, blob: 'x'.repeat(420_000) } }, ['blob'])
      .catch((e: unknown) => e)
    expectTooLarge(error)
    expect(calls.count('UpdateItemCommand')).toBe(0)
    expect(await store.load(record.key)).toEqual(record)
  })

  it('stores and reads back a record just under the limit (390,000 characters)', async () => {
    const record = newRecord({ blob: 'y'.repeat(390_000) })
    expect(await store.create(record)).toBe(true)
    expect(await store.load(record.key)).toEqual(record)
    const next = { ...record, data: { blob: 'z'.repeat(390_000) } }
    expect(await store.update(next, ['blob'])).toBe(true)
    expect(await store.load(record.key)).toEqual({ ...next, version: 1 })
  })

  it('accepts an item of exactly the limit, which DynamoDB Local stores, and refuses one byte more', async () => {
    const probe = (await store.create(newRecord({ blob: 'x'.repeat(420_000) })).catch((e: unknown) => e)) as
      | SessionTooLargeError
      | undefined
    const fits = 420_000 - ((probe?.size ?? 0) - MAX_ITEM_BYTES)
    const atLimit = newRecord({ blob: 'x'.repeat(fits) })
    expect(await store.create(atLimit)).toBe(true)
    expect(await store.load(atLimit.key)).toEqual(atLimit)

    calls.reset()
    const error = await store.create(newRecord({ blob: 'x'.repeat(fits + 1) })).catch((e: unknown) => e)
    expect(expectTooLarge(error).size).toBe(MAX_ITEM_BYTES + 1)
    expect(calls.count()).toBe(0)
  })

  it('an update that other writes have pushed past the limit fails with SessionTooLargeError, not STORE_UNAVAILABLE', async () => {
    const record = newRecord({ a: 0 })
    await store.create(record)
    // two requests from the same loaded record, each within the limit on its own
    expect(await store.update({ ...record, data: { a: 0, b: 'b'.repeat(300_000) } }, ['b'])).toBe(true)
    const error = await store
      .update({ ...record, data: { a: 0, c: 'c'.repeat(300_000) } }, ['c'])
      .catch((e: unknown) => e)
    expect(expectTooLarge(error).size).toBeUndefined()
    expect((error as Error).message).toMatch(/would pass/)
    const loaded = await store.load(record.key)
    expect(Object.keys(loaded?.data ?? {}).sort()).toEqual(['a', 'b'])
  })
})

describe('requests DynamoDB refuses as invalid', () => {
  let store: DynamoDBStore
  beforeAll(async () => {
    store = new DynamoDBStore({
      client,
      tableName: await createSessionTable(client, uniqueTableName('invalid')),
    })
  })

  it('a map key longer than DynamoDB allows fails with STORE_REJECTED, not STORE_UNAVAILABLE', async () => {
    const record = newRecord({ a: 0 })
    await store.create(record)
    const long = 'k'.repeat(65_536)
    const error = await store
      .update({ ...record, data: { a: 0, [long]: 1 } }, [long])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionError)
    expect(error).not.toBeInstanceOf(SessionStoreError)
    expect(error).toMatchObject({
      code: 'STORE_REJECTED',
      message: expect.stringMatching(/refused UpdateItem.*invalid/),
    })
  })
})

describe('store failures', () => {
  const expectUnavailable = (error: unknown, operation: string, table: string) => {
    expect(error).toBeInstanceOf(SessionStoreError)
    expect(error).toBeInstanceOf(SessionError)
    const storeError = error as SessionStoreError
    expect(storeError.code).toBe('STORE_UNAVAILABLE')
    expect(storeError.message).toContain(operation)
    expect(storeError.message).toContain(`"${table}"`)
    expect(storeError.cause).toBeInstanceOf(Error)
    return storeError
  }

  it('an unreachable endpoint makes every operation reject with STORE_UNAVAILABLE, naming the operation and table', async () => {
    const store = new DynamoDBStore({
      tableName: 'x',
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    })
    const record = newRecord()
    try {
      const error = expectUnavailable(await store.load('k').catch((e: unknown) => e), 'GetItem', 'x')
      expect(error.message).toMatch(/ECONNREFUSED/)
      // a write that could not be made rejects: false would claim the condition failed
      expectUnavailable(await store.create(record).catch((e: unknown) => e), 'PutItem', 'x')
      expectUnavailable(await store.update(record, ['user']).catch((e: unknown) => e), 'UpdateItem', 'x')
      expectUnavailable(await store.touch(record).catch((e: unknown) => e), 'UpdateItem', 'x')
      expectUnavailable(await store.delete('k').catch((e: unknown) => e), 'DeleteItem', 'x')
    } finally {
      store.client.destroy()
    }
  })

  it('a missing table gives STORE_UNAVAILABLE for reads and writes', async () => {
    const tableName = uniqueTableName('missing')
    const store = new DynamoDBStore({ client, tableName })
    expectUnavailable(await store.load('k').catch((e: unknown) => e), 'GetItem', tableName)
    expectUnavailable(await store.create(newRecord()).catch((e: unknown) => e), 'PutItem', tableName)
  })

  it('an endpoint that never answers fails with STORE_UNAVAILABLE once the timeout has passed', async () => {
    const sockets = new Set<Socket>()
    const server = createServer((socket) => sockets.add(socket)) // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const store = new DynamoDBStore({
      tableName: 'slow',
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      timeout: 300,
    })
    try {
      const started = Date.now()
      expectUnavailable(await store.load('k').catch((e: unknown) => e), 'GetItem', 'slow')
      const elapsed = Date.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(250)
      expect(elapsed).toBeLessThan(3000)
    } finally {
      store.client.destroy()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('constructor validation', () => {
  it('requires tableName', () => {
    expect(() => new DynamoDBStore({} as DynamoDBStoreOptions)).toThrow(/tableName/)
    expect(() => new DynamoDBStore({ tableName: '' })).toThrow(/tableName/)
  })

  it.each(['keyAttribute', 'dataAttribute', 'expiresAttribute'] as const)('refuses an empty %s', (option) => {
    expect(() => new DynamoDBStore({ tableName: 't', client, [option]: '' })).toThrow(option)
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses timeout %s', (timeout) => {
    expect(() => new DynamoDBStore({ tableName: 't', client, timeout })).toThrow(/timeout/)
  })

  it('refuses a sortKey without an attribute name', () => {
    expect(
      () => new DynamoDBStore({ tableName: 't', client, sortKey: { attribute: '', value: 'S' } }),
    ).toThrow(/sortKey/)
  })

  it('uses the client it is given', () => {
    expect(new DynamoDBStore({ tableName: 't', client }).client).toBe(client)
  })
})

describe('itemSize', () => {
  it('counts UTF-8 bytes of attribute names and string values', () => {
    expect(itemSize({ a: { S: 'abc' } })).toBe(4)
    expect(itemSize({ name: { S: '' } })).toBe(4)
    expect(itemSize({ ключ: { S: '' } })).toBe(8) // 4 Cyrillic letters, 2 bytes each
  })

  it('gives a multi-byte string its byte length, not its length in characters', () => {
    expect(itemSize({ s: { S: 'é' } })).toBe(1 + 2)
    expect(itemSize({ s: { S: '€' } })).toBe(1 + 3)
    expect(itemSize({ s: { S: '😀' } })).toBe(1 + 4) // 2 UTF-16 units, 4 bytes
    expect(itemSize({ s: { S: '漢字'.repeat(1000) } })).toBe(1 + 6000)
  })

  it('adds up every attribute, and counts a map as 3 bytes plus each entry’s name, value and 1 byte', () => {
    expect(itemSize({ a: { S: 'x' }, bb: { S: 'yy' } })).toBe(2 + 4)
    expect(itemSize({ d: { M: { k: { S: 'v' }, é: { S: '€' } } } })).toBe(1 + 3 + (1 + 1 + 1) + (2 + 3 + 1))
  })

  it('counts a number as one byte per two significant digits, plus one', () => {
    expect(itemSize({ n: { N: '123456' } })).toBe(1 + 3 + 1)
    expect(itemSize({ n: { N: '1700000000' } })).toBe(1 + 1 + 1)
  })
})
