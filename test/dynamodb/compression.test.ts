import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSessionId, hashSessionId } from '../../src/core/crypto.ts'
import { itemSize } from '../../src/dynamodb/item.ts'
import { DynamoDBStore, getSession, type SessionRecord } from '../../src/index.ts'
import { createSessionTable, localClient, scanAll, uniqueTableName } from '../support/dynamodb.ts'
import { app } from '../support/harness.ts'

const client = localClient()
let tableName = ''
beforeAll(async () => {
  tableName = await createSessionTable(client, uniqueTableName('compress'))
})

async function newRecord(data: Record<string, unknown>): Promise<SessionRecord> {
  const now = Math.floor(Date.now() / 1000)
  return {
    key: await hashSessionId(createSessionId()),
    data,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 600,
  }
}

async function storedItem(key: string): Promise<Record<string, AttributeValue>> {
  const items = await scanAll(client, tableName)
  return items.find((item) => item.session_id?.S === key) ?? {}
}

/** About 24 KB of session data that looks like real data: repetitive JSON. */
const cart = Array.from({ length: 500 }, (_, index) => ({
  sku: `SKU-${index % 40}`,
  quantity: index % 5,
  note: 'gift wrap',
}))

describe('compress', () => {
  it('stores large values gzipped when that is smaller, and reads them back', async () => {
    const plain = new DynamoDBStore({ client, tableName })
    const compressing = new DynamoDBStore({ client, tableName, compress: true })
    const a = await newRecord({ cart, small: 'stays text' })
    const b = await newRecord({ cart, small: 'stays text' })
    await plain.create(a)
    await compressing.create(b)
    const plainItem = await storedItem(a.key)
    const compressedItem = await storedItem(b.key)
    expect(compressedItem.data?.M?.cart?.B).toBeInstanceOf(Uint8Array)
    expect(compressedItem.data?.M?.small?.S).toBe('"stays text"')
    const [before, after] = [itemSize(plainItem), itemSize(compressedItem)]
    console.log(
      `compress: a ${before}-byte item is stored in ${after} bytes (${Math.ceil(before / 1024)} → ${Math.ceil(after / 1024)} write units)`,
    )
    expect(after).toBeLessThan(before / 5)
    expect((await compressing.load(b.key))?.data).toEqual({ cart, small: 'stays text' })
    // Turning compression off later keeps compressed values readable.
    expect((await plain.load(b.key))?.data).toEqual({ cart, small: 'stays text' })
  })

  it('keeps a value as text when gzip would not make it smaller', async () => {
    // Short, high-entropy text: gzip's own header and trailer make it longer.
    const compressing = new DynamoDBStore({ client, tableName, compress: 10 })
    const random = Array.from(crypto.getRandomValues(new Uint8Array(30)), (byte) =>
      String.fromCharCode(33 + (byte % 94)),
    ).join('')
    const record = await newRecord({ random })
    await compressing.create(record)
    expect((await storedItem(record.key)).data?.M?.random?.S).toBe(JSON.stringify(random))
    expect((await compressing.load(record.key))?.data).toEqual({ random })
  })

  it('refuses a bad threshold when the store is made', () => {
    expect(() => new DynamoDBStore({ client, tableName, compress: 0 })).toThrow(/"compress"/)
    expect(() => new DynamoDBStore({ client, tableName, compress: 1.5 })).toThrow(/"compress"/)
  })

  it('serves a large session through the middleware, compressed at rest', async () => {
    const sessions = app(new DynamoDBStore({ client, tableName, compress: true }))
    const { cookie } = await sessions.send(async (request) => {
      await getSession(request).set('cart', cart)
      return new Response('ok')
    })
    const { body } = await sessions.send(
      async (request) => new Response(JSON.stringify(await getSession(request).get('cart'))),
      cookie?.value,
    )
    expect(JSON.parse(body)).toEqual(cart)
  })
})
