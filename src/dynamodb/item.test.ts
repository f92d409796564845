// The item codec alone, no DynamoDB: record → item → record, the map keys, sizes against the
// 400 KB guard, and when values are stored gzipped.
import { describe, expect, it } from 'vitest'
import { SessionTooLargeError } from '../errors.ts'
import { type SessionRecord, setOwn } from '../store/store.ts'
import {
  fromItem,
  type Item,
  isOwnItem,
  itemKey,
  itemSize,
  MAX_ITEM_BYTES,
  sessionKeyOf,
  timesOf,
  toItem,
} from './item.ts'
import { resolveTableLayout } from './options.ts'

const layout = resolveTableLayout({ tableName: 'sessions' })
const shared = resolveTableLayout({
  tableName: 'app',
  keyPrefix: 'session#',
  sortKey: { attribute: 'sk', value: 'session' },
  dataAttribute: 'payload',
  expiresAttribute: 'ttl',
  userAttribute: 'owner',
})
const NEVER = Number.POSITIVE_INFINITY

function record(data: Record<string, unknown>, extra: Partial<SessionRecord> = {}): SessionRecord {
  return {
    key: 'k1',
    data,
    createdAt: 1_700_000_000,
    updatedAt: 1_700_000_100,
    expiresAt: 1_700_100_000,
    ...extra,
  }
}

/** The stored value of one map entry. */
async function storedValue(value: unknown, compressFrom: number) {
  const item = await toItem(record({ value }), layout, compressFrom)
  return item.data?.M?.value
}

/** Text gzip cannot shrink: no character repeats, and gzip adds 18 bytes of header and trailer. */
const UNIQUE_CHARACTERS = 'k2V9qX7wL4zR8mT1@#Yb'

describe('record → item → record', () => {
  it('gives back the same record for data of every JSON type, with and without a user', async () => {
    const data = {
      name: 'Ada',
      count: 3,
      ratio: -0.25,
      admin: false,
      nothing: null,
      tags: ['a', 'b'],
      cart: { items: [{ sku: 'X', quantity: 2 }], total: 19.5 },
    }
    for (const original of [record(data), record(data, { userId: 'user-7' })]) {
      for (const codecLayout of [layout, shared]) {
        const item = await toItem(original, codecLayout, NEVER)
        expect(await fromItem(original.key, item, codecLayout)).toEqual(original)
      }
    }
  })

  it('writes the key, one JSON string per data key, numbers for the times, and the user only when bound', async () => {
    const item = await toItem(record({ a: 1, b: 'two' }, { userId: 'u' }), shared, NEVER)
    expect(item).toEqual({
      session_id: { S: 'session#k1' },
      sk: { S: 'session' },
      payload: { M: { a: { S: '1' }, b: { S: '"two"' } } },
      created_at: { N: '1700000000' },
      updated_at: { N: '1700000100' },
      ttl: { N: '1700100000' },
      owner: { S: 'u' },
    })
    expect(Object.keys(await toItem(record({}), shared, NEVER))).not.toContain('owner')
  })

  it('reads the version DynamoDB counts, and none when the item was never updated', async () => {
    const item = await toItem(record({ a: 1 }), layout, NEVER)
    expect(await fromItem('k1', { ...item, version: { N: '4' } }, layout)).toMatchObject({ version: 4 })
    expect(await fromItem('k1', item, layout)).not.toHaveProperty('version')
  })

  it('reads an item this library did not write as no record', async () => {
    const item = await toItem(record({ a: 1 }), layout, NEVER)
    const foreign: Item[] = [
      { session_id: { S: 'k1' }, expire_at: { N: '1700100000' } }, // no data map
      { ...item, data: { S: 'not a map' } },
      { ...item, expire_at: { S: 'tomorrow' } },
      { ...item, expire_at: { N: 'NaN' } },
      { ...item, data: { M: { a: { S: '{not json' } } } },
      { ...item, data: { M: { a: { N: '1' } } } }, // neither text nor binary
      { ...item, data: { M: { a: { B: new Uint8Array([1, 2, 3]) } } } }, // binary, but not gzip
    ]
    for (const other of foreign) expect(await fromItem('k1', other, layout)).toBeUndefined()
  })

  it('reads the times of an item, a missing creation or update time as 0 and a missing expiry as never live', () => {
    expect(
      timesOf({ created_at: { N: '5' }, updated_at: { N: '6' }, expire_at: { N: '7' } }, layout),
    ).toEqual({
      createdAt: 5,
      updatedAt: 6,
      expiresAt: 7,
    })
    const times = timesOf({}, layout)
    expect([times.createdAt, times.updatedAt]).toEqual([0, 0])
    expect(times.expiresAt > 0).toBe(false)
  })
})

describe('map keys', () => {
  const odd = [
    '__proto__',
    'a.b',
    'a.b.c',
    '',
    '~',
    '~tilde',
    '#k0',
    ':v0',
    'ключ',
    '🔑',
    'with space',
    'constructor',
  ]

  it('round-trips keys with dots, an empty key, __proto__, a leading ~ and unicode, each as an own property', async () => {
    const data: Record<string, unknown> = {}
    odd.forEach((key, index) => {
      setOwn(data, key, { index })
    })
    const back = await fromItem('k1', await toItem(record(data), layout, NEVER), layout)
    expect(Object.keys(back?.data ?? {}).sort()).toEqual([...odd].sort())
    for (const [index, key] of odd.entries()) {
      expect(Object.hasOwn(back?.data ?? {}, key)).toBe(true)
      expect(back?.data[key]).toEqual({ index })
    }
    expect(Object.getPrototypeOf(back?.data)).toBe(Object.prototype) // __proto__ stayed data
  })

  it('escapes only the keys a plain object or DynamoDB would lose or refuse, and a leading ~ so it stays unambiguous', async () => {
    const data: Record<string, unknown> = {}
    for (const key of odd) setOwn(data, key, 1)
    const map = (await toItem(record(data), layout, NEVER)).data?.M ?? {}
    expect(Object.keys(map).sort()).toEqual(
      [
        '~__proto__',
        'a.b',
        'a.b.c',
        '~',
        '~~',
        '~~tilde',
        '#k0',
        ':v0',
        'ключ',
        '🔑',
        'with space',
        'constructor',
      ].sort(),
    )
    expect(Object.hasOwn(map, '~__proto__')).toBe(true)
  })
})

describe('sizes and the 400 KB guard', () => {
  it('counts an item as DynamoDB does: UTF-8 names and strings, significant digits of numbers, map overheads', () => {
    expect(itemSize({ id: { S: 'abc' } })).toBe(2 + 3)
    expect(itemSize({ é: { S: 'é€' } })).toBe(2 + 2 + 3)
    expect(itemSize({ n: { N: '123456' } })).toBe(1 + 3 + 1)
    expect(itemSize({ n: { N: '1700000000' } })).toBe(1 + 1 + 1) // trailing zeros are free
    expect(itemSize({ n: { N: '-0.0012' } })).toBe(1 + 1 + 1)
    expect(itemSize({ b: { B: new Uint8Array(10) } })).toBe(1 + 10)
    expect(itemSize({ m: { M: { a: { S: 'xy' } } } })).toBe(1 + 3 + (1 + 2) + 1)
    expect(itemSize({ t: { BOOL: true } })).toBe(1 + 1)
  })

  it('builds an item of exactly 400 KB and refuses one byte more before any call, saying its size', async () => {
    const base = itemSize(await toItem(record({ big: '' }), layout, NEVER))
    const fits = record({ big: 'x'.repeat(MAX_ITEM_BYTES - base) })
    expect(itemSize(await toItem(fits, layout, NEVER))).toBe(MAX_ITEM_BYTES)

    const over = record({ big: 'x'.repeat(MAX_ITEM_BYTES - base + 1) })
    const error = await toItem(over, layout, NEVER).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(SessionTooLargeError)
    expect(error).toMatchObject({
      code: 'SESSION_TOO_LARGE',
      size: MAX_ITEM_BYTES + 1,
      limit: MAX_ITEM_BYTES,
    })
  })

  it('counts multi-byte characters in bytes against the guard', async () => {
    const base = itemSize(await toItem(record({ big: '' }), layout, NEVER))
    const euros = Math.floor((MAX_ITEM_BYTES - base) / 3) + 1 // 3 bytes each: just over, in bytes
    await expect(toItem(record({ big: '€'.repeat(euros) }), layout, NEVER)).rejects.toBeInstanceOf(
      SessionTooLargeError,
    )
    await expect(toItem(record({ big: '€'.repeat(euros - 1) }), layout, NEVER)).resolves.toBeDefined()
  })

  it('lets a session over 400 KB as text through when compressed below it, and reads it back', async () => {
    const cart = Array.from({ length: 16_000 }, (_, index) => ({
      sku: `SKU-${index % 40}`,
      quantity: index % 5,
    }))
    const large = record({ cart })
    expect(JSON.stringify(cart).length).toBeGreaterThan(MAX_ITEM_BYTES)
    await expect(toItem(large, layout, NEVER)).rejects.toBeInstanceOf(SessionTooLargeError)
    const item = await toItem(large, layout, 1024)
    expect(itemSize(item)).toBeLessThan(MAX_ITEM_BYTES / 10)
    expect((await fromItem('k1', item, layout))?.data).toEqual({ cart })
  })
})

describe('compression thresholds', () => {
  const repetitive = (jsonLength: number) => 'a'.repeat(jsonLength - 2) // JSON adds the two quotes

  it('gzips a value whose JSON reaches the threshold, and not one a character shorter', async () => {
    expect(await storedValue(repetitive(1023), 1024)).toEqual({ S: JSON.stringify(repetitive(1023)) })
    expect((await storedValue(repetitive(1024), 1024))?.B).toBeInstanceOf(Uint8Array)
    expect((await storedValue(repetitive(50), 50))?.B).toBeInstanceOf(Uint8Array)
  })

  it('keeps a value as text when gzip would not make it smaller', async () => {
    expect(await storedValue('ab', 1)).toEqual({ S: '"ab"' })
    expect(await storedValue(UNIQUE_CHARACTERS, 1)).toEqual({ S: JSON.stringify(UNIQUE_CHARACTERS) })
  })

  it('never gzips with compression off', async () => {
    expect(await storedValue(repetitive(100_000), NEVER)).toEqual({ S: JSON.stringify(repetitive(100_000)) })
  })

  it('stores a gzipped value smaller than its text, and reads text and gzipped values of one item alike', async () => {
    const data = { big: repetitive(5000), small: 'stays text', list: [1, 2, 3] }
    const item = await toItem(record(data), layout, 1024)
    const map = item.data?.M ?? {}
    expect(map.big?.B?.length).toBeLessThan(5000 / 10)
    expect(map.small).toEqual({ S: '"stays text"' })
    expect((await fromItem('k1', item, layout))?.data).toEqual(data)
    // Turning compression off later keeps what was stored gzipped readable.
    expect((await fromItem('k1', await toItem(record(data), layout, NEVER), layout))?.data).toEqual(data)
  })
})

describe('item keys and ownership', () => {
  it('keys an item by prefix plus storage key, with the sort key value in a shared table', () => {
    expect(itemKey(layout, 'abc')).toEqual({ session_id: { S: 'abc' } })
    expect(itemKey(shared, 'abc')).toEqual({ session_id: { S: 'session#abc' }, sk: { S: 'session' } })
  })

  it('owns only items with its prefix and sort key value, and reads their storage key back', () => {
    const own = itemKey(shared, 'abc')
    expect(isOwnItem(own, shared)).toBe(true)
    expect(sessionKeyOf(own, shared)).toBe('abc')
    expect(isOwnItem({ ...own, session_id: { S: 'order#abc' } }, shared)).toBe(false)
    expect(isOwnItem({ ...own, sk: { S: 'order' } }, shared)).toBe(false)
    expect(isOwnItem({ session_id: { S: 'session#abc' } }, shared)).toBe(false) // no sort key
    expect(isOwnItem({ sk: { S: 'session' } }, shared)).toBe(false) // no partition key
    expect(isOwnItem({ session_id: { S: 'anything' } }, layout)).toBe(true)
  })
})
