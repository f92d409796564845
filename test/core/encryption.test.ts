import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { describe, expect, it, vi } from 'vitest'
import { getSession, type SessionError } from '../../src/index.ts'
import { scanAll } from '../support/dynamodb.ts'
import { app, dynamoStore, OLD_SECRET, SECRET } from '../support/harness.ts'

type Data = { card: string; cart: string[]; note: string }

const remember = async (request: Request) => {
  const session = getSession<Data>(request)
  await session.set('card', '4111 1111 1111 1111')
  await session.set('cart', ['apple', 'pear'])
  return new Response('ok')
}
const show = async (request: Request) => new Response(JSON.stringify(await getSession<Data>(request).all()))
const addNote = async (request: Request) => {
  await getSession<Data>(request).set('note', 'changed')
  return new Response('ok')
}

/** The stored data map of the only item in the table, raw. */
async function storedData(env: Awaited<ReturnType<typeof dynamoStore>>): Promise<Record<string, string>> {
  const [item] = await scanAll(env.client, env.tableName)
  const map = (item?.data as AttributeValue.MMember | undefined)?.M ?? {}
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, value.S ?? '']))
}

describe('encrypt: true', () => {
  it('seals every value at rest, and reads them back', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store, { encrypt: true })
    const { cookie } = await sessions.send(remember)
    const stored = await storedData(env)
    expect(Object.keys(stored).sort()).toEqual(['card', 'cart'])
    for (const value of Object.values(stored)) expect(value).toMatch(/^\{"\$sealed":"Fe26\.2\*/)
    const dump = JSON.stringify(await scanAll(env.client, env.tableName))
    expect(dump).not.toContain('4111')
    expect(dump).not.toContain('apple')
    expect(dump).not.toContain(cookie?.id)
    expect(JSON.parse((await sessions.send(show, cookie?.value)).body)).toEqual({
      card: '4111 1111 1111 1111',
      cart: ['apple', 'pear'],
    })
  })

  it('unseals with any listed secret and re-seals with the newest on the next write', async () => {
    const env = await dynamoStore()
    const before = app(env.store, { encrypt: true, secretKey: OLD_SECRET })
    const { cookie } = await before.send(remember)
    const oldSeal = (await storedData(env)).card

    const rotated = app(env.store, { encrypt: true, secretKey: [SECRET, OLD_SECRET] })
    const read = await rotated.send(show, cookie?.value)
    expect(JSON.parse(read.body).card).toBe('4111 1111 1111 1111')
    await rotated.send(addNote, read.cookie?.value ?? cookie?.value)
    // Each seal names its secret; the write re-sealed the old secret's values too, so the old
    // secret can be retired.
    const secretIds = Object.values(await storedData(env)).map((sealed) => sealed.split('*')[1])
    expect(secretIds).toHaveLength(3)
    expect(new Set(secretIds).size).toBe(1)
    expect(secretIds[0]).not.toBe(oldSeal?.split('*')[1])
  })

  it("re-seals an old secret's values in place of a touch, with no data change", async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.UTC(2030, 0, 1))
      const env = await dynamoStore()
      const { cookie } = await app(env.store, { encrypt: true, secretKey: OLD_SECRET }).send(remember)
      const oldId = (await storedData(env)).card?.split('*')[1]
      const rotated = app(env.store, { encrypt: true, secretKey: [SECRET, OLD_SECRET], touchAfter: 60 })
      vi.setSystemTime(Date.UTC(2030, 0, 1, 0, 1))
      env.counter.reset()
      await rotated.send(show, cookie?.value)
      expect(env.counter.calls).toEqual(['GetItemCommand', 'UpdateItemCommand'])
      const ids = Object.values(await storedData(env)).map((sealed) => sealed.split('*')[1])
      expect(ids.every((id) => id !== oldId)).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })

  it('reads a tampered or unknown seal as no session, reported through onError', async () => {
    const env = await dynamoStore()
    const reports: [string, string][] = []
    const onError = (error: SessionError, _request: Request, phase: string) => {
      reports.push([error.code, phase])
      return new Response('not used', { status: 500 })
    }
    const { cookie } = await app(env.store, { encrypt: true, secretKey: OLD_SECRET }).send(remember)

    // The cookie is re-signed under the new secret, but its values stay sealed by the old one
    // (no write, no touch due), which is then retired.
    const rotated = await app(env.store, { encrypt: true, secretKey: [SECRET, OLD_SECRET] }).send(
      show,
      cookie?.value,
    )
    const retired = await app(env.store, { encrypt: true, onError }).send(show, rotated.cookie?.value)
    expect(retired.response.status).toBe(200)
    expect(retired.body).toBe('{}')

    const [item] = await scanAll(env.client, env.tableName)
    const card = (item as Record<string, AttributeValue>).data?.M?.card as AttributeValue.SMember
    card.S = card.S.replace(/\*(\w)/, (_, first) => `*${first === 'a' ? 'b' : 'a'}`)
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb')
    await env.client.send(new PutItemCommand({ TableName: env.tableName, Item: item }))
    const tampered = await app(env.store, { encrypt: true, secretKey: OLD_SECRET, onError }).send(
      show,
      cookie?.value,
    )
    expect(tampered.body).toBe('{}')
    expect(reports).toEqual([
      ['SESSION_UNREADABLE', 'unseal'],
      ['SESSION_UNREADABLE', 'unseal'],
    ])
  })

  it('can be switched on and off: sessions stay readable and change form on their next write', async () => {
    const env = await dynamoStore()
    const { cookie } = await app(env.store).send(remember)
    expect((await storedData(env)).card).toBe('"4111 1111 1111 1111"')

    const sealing = app(env.store, { encrypt: true })
    expect(JSON.parse((await sealing.send(show, cookie?.value)).body).card).toBe('4111 1111 1111 1111')
    await sealing.send(addNote, cookie?.value)
    for (const value of Object.values(await storedData(env))) expect(value).toMatch(/"\$sealed"/)

    const plain = app(env.store)
    expect(JSON.parse((await plain.send(show, cookie?.value)).body)).toEqual({
      card: '4111 1111 1111 1111',
      cart: ['apple', 'pear'],
      note: 'changed',
    })
    await plain.send(async (request) => {
      await getSession<Data>(request).set('note', 'plain again')
      return new Response('ok')
    }, cookie?.value)
    expect(await storedData(env)).toEqual({
      card: '"4111 1111 1111 1111"',
      cart: '["apple","pear"]',
      note: '"plain again"',
    })
  })
})

describe('encrypt: false', () => {
  it('stores values shaped like its own seal as plain data, and reads them back unchanged', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const lookAlikes = { $sealed: `Fe26.2*${'0'.repeat(16)}*forged` }
    const { cookie } = await sessions.send(async (request) => {
      const session = getSession<Record<string, unknown>>(request)
      await session.set('sealedLookAlike', lookAlikes)
      await session.set('plainLookAlike', { $plain: 1 })
      await session.set('count', 1)
      return new Response('ok')
    })
    expect(JSON.parse((await sessions.send(show, cookie?.value)).body)).toEqual({
      sealedLookAlike: lookAlikes,
      plainLookAlike: { $plain: 1 },
      count: 1,
    })
  })
})
