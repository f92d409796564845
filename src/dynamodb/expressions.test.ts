// The expressions and conditions of the store's writes, built without DynamoDB: what each write
// sets, removes and is conditional on, and that every name and value they carry is used, as
// DynamoDB refuses unused ones.
import { describe, expect, it } from 'vitest'
import {
  type Change,
  type Condition,
  createCondition,
  deleteCondition,
  touchExpressions,
  type Update,
  updateExpressions,
} from './expressions.ts'
import { type Item, toItem } from './item.ts'
import { resolveTableLayout } from './options.ts'

const layout = resolveTableLayout({
  tableName: 'sessions',
  keyAttribute: 'pk',
  dataAttribute: 'payload',
  expiresAttribute: 'ttl',
  userAttribute: 'owner',
})
const NOW = 1_700_000_000
const LIVE = 'attribute_exists(#key) AND #expires > :now'
const times = { updatedAt: NOW, expiresAt: NOW + 3600 }
const change = (keys: Change['keys'], more: Partial<Change> = {}): Change => ({
  keys,
  userChanged: false,
  checkVersion: false,
  ...more,
})

/** The encoded data map of a record holding `data`, as the store passes it. */
async function encoded(data: Record<string, unknown>): Promise<Item> {
  const item = await toItem({ key: 'k', data, createdAt: NOW, ...times }, layout, Number.POSITIVE_INFINITY)
  return item.payload?.M ?? {}
}

/** Fails unless the expressions use exactly the names and values they define. */
function expectEveryNameAndValueUsed(expressions: Condition | Update) {
  const text = `${'UpdateExpression' in expressions ? expressions.UpdateExpression : ''} ${expressions.ConditionExpression}`
  const used = (prefix: string) => [...new Set(text.match(new RegExp(`${prefix}[A-Za-z0-9_]+`, 'g')))].sort()
  expect(used('#')).toEqual(Object.keys(expressions.ExpressionAttributeNames).sort())
  expect(used(':')).toEqual(Object.keys(expressions.ExpressionAttributeValues ?? {}).sort())
}

describe('create', () => {
  it('is conditional on no item having the key, expired or not', () => {
    const condition = createCondition(layout)
    expect(condition).toEqual({
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { '#key': 'pk' },
    })
    expectEveryNameAndValueUsed(condition)
  })
})

describe('touch', () => {
  it('sets only the two times, on a live item', () => {
    const touch = touchExpressions(layout, times, NOW)
    expect(touch.UpdateExpression).toBe('SET #updated = :updated, #expires = :expires')
    expect(touch.ConditionExpression).toBe(LIVE)
    expect(touch.ExpressionAttributeNames).toEqual({
      '#key': 'pk',
      '#updated': 'updated_at',
      '#expires': 'ttl',
    })
    expect(touch.ExpressionAttributeValues).toEqual({
      ':updated': { N: String(NOW) },
      ':expires': { N: String(NOW + 3600) },
      ':now': { N: String(NOW) },
    })
    expectEveryNameAndValueUsed(touch)
  })
})

describe('update', () => {
  it('sets the changed keys still in the data, removes the others, and counts one more version, on a live item', async () => {
    const update = updateExpressions(
      layout,
      times,
      await encoded({ a: 1, c: 'x' }),
      change(['a', 'b', 'c']),
      NOW,
    )
    expect(update.UpdateExpression).toBe(
      'SET #updated = :updated, #expires = :expires, #data.#k0 = :v0, #data.#k2 = :v2 REMOVE #data.#k1 ADD #version :one',
    )
    expect(update.ConditionExpression).toBe(LIVE)
    expect(update.ExpressionAttributeNames).toMatchObject({
      '#data': 'payload',
      '#k0': 'a',
      '#k1': 'b',
      '#k2': 'c',
    })
    expect(update.ExpressionAttributeValues).toMatchObject({
      ':v0': { S: '1' },
      ':v2': { S: '"x"' },
      ':one': { N: '1' },
    })
    expectEveryNameAndValueUsed(update)
  })

  it('names odd keys through their escaped map key, and removes a key only inherited from Object.prototype', async () => {
    const data: Record<string, unknown> = {}
    Object.defineProperty(data, '__proto__', { value: 'p', enumerable: true })
    data[''] = 'empty'
    data['a.b'] = 'dotted'
    const update = updateExpressions(
      layout,
      times,
      await encoded(data),
      change(['__proto__', '', 'a.b', 'toString']),
      NOW,
    )
    expect(update.ExpressionAttributeNames).toMatchObject({
      '#k0': '~__proto__',
      '#k1': '~',
      '#k2': 'a.b',
      '#k3': 'toString',
    })
    expect(update.UpdateExpression).toContain(
      '#data.#k0 = :v0, #data.#k1 = :v1, #data.#k2 = :v2 REMOVE #data.#k3',
    )
    expect(update.ExpressionAttributeValues).toMatchObject({ ':v0': { S: '"p"' }, ':v2': { S: '"dotted"' } })
    expectEveryNameAndValueUsed(update)
  })

  it('leaves the data attribute out of an update that changes no key', async () => {
    const update = updateExpressions(layout, times, await encoded({ a: 1 }), change([]), NOW)
    expect(update.UpdateExpression).toBe('SET #updated = :updated, #expires = :expires ADD #version :one')
    expect(update.ExpressionAttributeNames).not.toHaveProperty('#data')
    expectEveryNameAndValueUsed(update)
  })

  it("writes the whole map with 'all'", async () => {
    const data = await encoded({ a: 1, b: 2 })
    const update = updateExpressions(
      layout,
      { ...times, version: 2 },
      data,
      change('all', { checkVersion: true }),
      NOW,
    )
    expect(update.UpdateExpression).toBe(
      'SET #updated = :updated, #expires = :expires, #data = :data ADD #version :one',
    )
    expect(update.ExpressionAttributeValues[':data']).toEqual({ M: data })
    expectEveryNameAndValueUsed(update)
  })

  it('with checkVersion, is conditional on the version read: an absent version counts as 0', async () => {
    const data = await encoded({ a: 1 })
    const atThree = updateExpressions(
      layout,
      { ...times, version: 3 },
      data,
      change(['a'], { checkVersion: true }),
      NOW,
    )
    expect(atThree.ConditionExpression).toBe(`${LIVE} AND #version = :version`)
    expect(atThree.ExpressionAttributeValues[':version']).toEqual({ N: '3' })
    expectEveryNameAndValueUsed(atThree)
    for (const version of [undefined, 0]) {
      const never = updateExpressions(
        layout,
        { ...times, version },
        data,
        change(['a'], { checkVersion: true }),
        NOW,
      )
      expect(never.ConditionExpression).toBe(
        `${LIVE} AND (attribute_not_exists(#version) OR #version = :version)`,
      )
      expect(never.ExpressionAttributeValues[':version']).toEqual({ N: '0' })
      expectEveryNameAndValueUsed(never)
    }
  })

  it('sets the user when bound, removes it when unbound, and leaves it alone when unchanged', async () => {
    const data = await encoded({ a: 1 })
    const bound = updateExpressions(
      layout,
      { ...times, userId: 'u1' },
      data,
      change(['a'], { userChanged: true }),
      NOW,
    )
    expect(bound.UpdateExpression).toBe(
      'SET #updated = :updated, #expires = :expires, #data.#k0 = :v0, #user = :user ADD #version :one',
    )
    expect(bound.ExpressionAttributeNames['#user']).toBe('owner')
    expect(bound.ExpressionAttributeValues[':user']).toEqual({ S: 'u1' })
    const unbound = updateExpressions(layout, times, data, change(['a'], { userChanged: true }), NOW)
    expect(unbound.UpdateExpression).toBe(
      'SET #updated = :updated, #expires = :expires, #data.#k0 = :v0 REMOVE #user ADD #version :one',
    )
    const unchanged = updateExpressions(layout, { ...times, userId: 'u1' }, data, change(['a']), NOW)
    expect(unchanged.ExpressionAttributeNames).not.toHaveProperty('#user')
    for (const update of [bound, unbound, unchanged]) expectEveryNameAndValueUsed(update)
  })
})

describe('update with ifValue (session.update())', () => {
  it('is conditional on the one key holding one of the forms read, escaped like any map key', async () => {
    const forms = [{ S: '1' }, { B: new Uint8Array([1, 2]) }]
    const data = await encoded(JSON.parse('{"__proto__": 2}'))
    const update = updateExpressions(
      layout,
      times,
      data,
      change(['__proto__'], { ifValue: { key: '__proto__', forms } }),
      NOW,
    )
    expect(update.ConditionExpression).toBe(`${LIVE} AND #data.#ifKey IN (:if0, :if1)`)
    expect(update.ExpressionAttributeNames['#ifKey']).toBe('~__proto__')
    expect(update.UpdateExpression).toContain('#data.#k0 = :v0')
    expect(update.ExpressionAttributeValues[':if1']).toEqual(forms[1])
    expectEveryNameAndValueUsed(update)
  })

  it('with no forms, is conditional on the key being absent, even when no key is written', () => {
    const update = updateExpressions(
      layout,
      times,
      {},
      change([], { ifValue: { key: 'count', forms: [] } }),
      NOW,
    )
    expect(update.ConditionExpression).toBe(`${LIVE} AND attribute_not_exists(#data.#ifKey)`)
    expect(update.ExpressionAttributeNames['#data']).toBe('payload')
    expectEveryNameAndValueUsed(update)
  })
})

describe('delete', () => {
  it("with 'live', is conditional on a live item", () => {
    const condition = deleteCondition(layout, 'live', NOW)
    expect(condition.ConditionExpression).toBe(LIVE)
    expect(condition.ExpressionAttributeValues).toEqual({ ':now': { N: String(NOW) } })
    expectEveryNameAndValueUsed(condition)
  })

  it('with a version, is conditional on a live item still at that version', () => {
    const atFive = deleteCondition(layout, { version: 5 }, NOW)
    expect(atFive.ConditionExpression).toBe(`${LIVE} AND #version = :version`)
    expect(atFive.ExpressionAttributeNames).toEqual({
      '#key': 'pk',
      '#expires': 'ttl',
      '#version': 'version',
    })
    expectEveryNameAndValueUsed(atFive)
    const atZero = deleteCondition(layout, { version: 0 }, NOW)
    expect(atZero.ConditionExpression).toBe(
      `${LIVE} AND (attribute_not_exists(#version) OR #version = :version)`,
    )
    expectEveryNameAndValueUsed(atZero)
  })
})
