// The Store contract of src/store.ts, as a suite any store must pass.
import { beforeAll, describe, expect, it } from 'vitest'
import { nowInSeconds, type SessionRecord, type Store } from '../../src/store/store.ts'

const HOUR = 3600
let keys = 0

/** A live record under a key no other test uses. */
function newRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  keys += 1
  const now = nowInSeconds()
  return {
    key: `key-${keys}-${crypto.randomUUID()}`,
    data: { user: 'ada', count: 1 },
    createdAt: now - 10,
    updatedAt: now - 10,
    expiresAt: now + HOUR,
    ...overrides,
  }
}

export function storeConformance(name: string, makeStore: () => Promise<Store> | Store): void {
  describe(`${name} keeps the Store contract`, () => {
    let store: Store
    beforeAll(async () => {
      store = await makeStore()
    })

    describe('load', () => {
      it('returns undefined for a key never written', async () => {
        expect(await store.load(newRecord().key)).toBeUndefined()
      })

      it('hides a record whose expiresAt is in the past', async () => {
        const record = newRecord({ expiresAt: nowInSeconds() - 1 })
        expect(await store.create(record)).toBe(true)
        expect(await store.load(record.key)).toBeUndefined()
      })

      it('treats expiresAt = now as already expired', async () => {
        const record = newRecord({ expiresAt: nowInSeconds() })
        expect(await store.create(record)).toBe(true)
        expect(await store.load(record.key)).toBeUndefined()
      })

      it('returns a copy: changing the loaded record does not change the stored one', async () => {
        const record = newRecord({ data: { list: [1, 2] } })
        await store.create(record)
        const loaded = await store.load(record.key)
        if (!loaded) throw new Error('the record was not stored')
        ;(loaded.data.list as number[]).push(3)
        loaded.data.extra = true
        loaded.expiresAt = 0
        expect(await store.load(record.key)).toEqual(record)
      })
    })

    describe('create', () => {
      it('stores a record that load returns unchanged', async () => {
        const record = newRecord({ data: { user: 'ada', roles: ['admin'], profile: { age: 36, ok: true } } })
        expect(await store.create(record)).toBe(true)
        expect(await store.load(record.key)).toEqual(record)
      })

      it('stores a copy: changing the record afterwards does not change the stored one', async () => {
        const record = newRecord({ data: { list: [1] } })
        const expected = structuredClone(record)
        await store.create(record)
        ;(record.data.list as number[]).push(2)
        record.data.extra = true
        expect(await store.load(record.key)).toEqual(expected)
      })

      it('never overwrites: a second create under the same key returns false and the first record stays', async () => {
        const first = newRecord({ data: { owner: 'first' } })
        expect(await store.create(first)).toBe(true)
        const second = { ...newRecord({ data: { owner: 'second' } }), key: first.key }
        expect(await store.create(second)).toBe(false)
        expect(await store.load(first.key)).toEqual(first)
      })
    })

    describe('update', () => {
      it('writes the changed keys, updatedAt and expiresAt, and keeps createdAt', async () => {
        const record = newRecord({ data: { user: 'ada', count: 1 } })
        await store.create(record)
        const later = {
          ...record,
          data: { user: 'ada', count: 2, cart: ['book'] },
          createdAt: record.createdAt + 500, // not written by update
          updatedAt: record.updatedAt + 5,
          expiresAt: record.expiresAt + 5,
        }
        expect(await store.update(later, ['count', 'cart'])).toBe(true)
        expect(await store.load(record.key)).toEqual({ ...later, createdAt: record.createdAt, version: 1 })
      })

      it('leaves keys outside changedKeys as stored, even when the record passed differs', async () => {
        const record = newRecord({ data: { a: 1, b: 1 } })
        await store.create(record)
        expect(await store.update({ ...record, data: { a: 2, b: 99 } }, ['a'])).toBe(true)
        expect((await store.load(record.key))?.data).toEqual({ a: 2, b: 1 })
      })

      it('removes a changed key that the record data no longer has', async () => {
        const record = newRecord({ data: { a: 1, flash: 'saved' } })
        await store.create(record)
        expect(await store.update({ ...record, data: { a: 1 } }, ['flash'])).toBe(true)
        const loaded = await store.load(record.key)
        expect(loaded?.data).toEqual({ a: 1 })
        expect(Object.hasOwn(loaded?.data ?? {}, 'flash')).toBe(false)
      })

      it('keeps both changes when two updates from the same loaded record change different keys', async () => {
        const record = newRecord({ data: { a: 0, b: 0 } })
        await store.create(record)
        const [one, two] = await Promise.all([
          store.update({ ...record, data: { a: 1, b: 0 } }, ['a']),
          store.update({ ...record, data: { a: 0, b: 2 } }, ['b']),
        ])
        expect([one, two]).toEqual([true, true])
        expect((await store.load(record.key))?.data).toEqual({ a: 1, b: 2 })
      })

      it('with no changed keys moves only updatedAt and expiresAt', async () => {
        const record = newRecord({ data: { a: 1 } })
        await store.create(record)
        const moved = {
          ...record,
          data: { a: 2 },
          updatedAt: record.updatedAt + 1,
          expiresAt: record.expiresAt + 1,
        }
        expect(await store.update(moved, [])).toBe(true)
        expect(await store.load(record.key)).toEqual({ ...moved, data: { a: 1 }, version: 1 })
      })

      it('counts updates in version, from none at create; touches do not count', async () => {
        const record = newRecord({ version: 7 }) // create ignores a version passed in
        await store.create(record)
        expect((await store.load(record.key))?.version ?? 0).toBe(0)
        await store.update({ ...record, data: { user: 'bob' } }, ['user'])
        await store.update({ ...record, data: { count: 2 } }, ['count'])
        await store.touch({
          key: record.key,
          updatedAt: record.updatedAt + 1,
          expiresAt: record.expiresAt + 1,
        })
        expect((await store.load(record.key))?.version).toBe(2)
      })

      it('keeps a change made since the record was read, also when more than 150 keys change', async () => {
        const keys = Array.from({ length: 160 }, (_, index) => `k${index}`)
        const record = newRecord({ data: Object.fromEntries(keys.map((key) => [key, 0])) })
        await store.create(record)
        const read = (await store.load(record.key)) as SessionRecord
        expect(await store.update({ ...read, data: { ...read.data, other: 'kept' } }, ['other'])).toBe(true)
        const changed = { ...read, data: Object.fromEntries(keys.map((key) => [key, 1])) }
        expect(await store.update(changed, keys)).toBe(true)
        expect((await store.load(record.key))?.data).toEqual({ ...changed.data, other: 'kept' })
      })

      it('with ifUnchanged, writes only while no other update came since the record was read', async () => {
        const record = newRecord({ data: { a: 0, b: 0 } })
        await store.create(record)
        const read = (await store.load(record.key)) as SessionRecord
        expect(await store.update({ ...read, data: { a: 1, b: 0 } }, ['a'], { ifUnchanged: true })).toBe(true)
        // `read` is one update behind now: its writes are refused, and its old `a` never lands
        const stale = { ...read, data: { a: 0, b: 2 } }
        expect(await store.update(stale, ['a', 'b'], { ifUnchanged: true })).toBe(false)
        const many = Array.from({ length: 160 }, (_, index) => `k${index}`)
        expect(await store.update(stale, [...many, 'a'], { ifUnchanged: true })).toBe(false)
        expect(await store.load(record.key)).toMatchObject({ data: { a: 1, b: 0 }, version: 1 })
      })

      it('with ifValue, writes only while that one key still holds the value read (compare-and-swap)', async () => {
        const record = newRecord({ data: { count: 1, cart: ['a'] } })
        await store.create(record)
        const read = (await store.load(record.key)) as SessionRecord
        const ifValue = { key: 'count', value: read.data.count }
        expect(
          await store.update({ ...read, data: { ...read.data, count: 2 } }, ['count'], { ifValue }),
        ).toBe(true)
        // the same expected value is stale now: refused, and the 2 stays
        expect(
          await store.update({ ...read, data: { ...read.data, count: 9 } }, ['count'], { ifValue }),
        ).toBe(false)
        // another key's change does not refuse it: only the one key is compared
        await store.update({ ...read, data: { ...read.data, cart: ['a', 'b'] } }, ['cart'])
        const again = { key: 'count', value: 2 }
        expect(await store.update({ ...read, data: { count: 3 } }, ['count'], { ifValue: again })).toBe(true)
        expect((await store.load(record.key))?.data).toEqual({ count: 3, cart: ['a', 'b'] })
      })

      it('with ifValue undefined, writes only while the key is absent', async () => {
        const record = newRecord({ data: { user: 'ada' } })
        await store.create(record)
        const absent = { key: 'count', value: undefined }
        expect(await store.update({ ...record, data: { count: 1 } }, ['count'], { ifValue: absent })).toBe(
          true,
        )
        expect(await store.update({ ...record, data: { count: 5 } }, ['count'], { ifValue: absent })).toBe(
          false,
        )
        expect((await store.load(record.key))?.data).toEqual({ user: 'ada', count: 1 })
      })

      it('with ifValue, compares nested and large values exactly, and never revives a deleted record', async () => {
        const big = { items: Array.from({ length: 400 }, (_, index) => `item-${index}`) }
        const record = newRecord({ data: { big } })
        await store.create(record)
        const ifValue = { key: 'big', value: big }
        expect(await store.update({ ...record, data: { big: { items: [] } } }, ['big'], { ifValue })).toBe(
          true,
        )
        await store.delete(record.key)
        const revive = { key: 'big', value: { items: [] } }
        expect(await store.update({ ...record, data: { big: 1 } }, ['big'], { ifValue: revive })).toBe(false)
        expect(await store.load(record.key)).toBeUndefined()
      })

      it('returns false for a missing key and does not create an item (no resurrection)', async () => {
        const record = newRecord()
        expect(await store.update(record, ['user', 'count'])).toBe(false)
        expect(await store.load(record.key)).toBeUndefined()
        // had update created anything, this create would find the key taken
        expect(await store.create(record)).toBe(true)
      })

      it('returns false for a deleted record and does not bring it back', async () => {
        const record = newRecord()
        await store.create(record)
        await store.delete(record.key)
        expect(await store.update({ ...record, data: { user: 'eve' } }, ['user'])).toBe(false)
        expect(await store.load(record.key)).toBeUndefined()
      })

      it('returns false for a record past expiresAt and does not revive it', async () => {
        const record = newRecord({ expiresAt: nowInSeconds() - 1 })
        await store.create(record)
        const revived = { ...record, data: { user: 'eve' }, expiresAt: nowInSeconds() + HOUR }
        expect(await store.update(revived, ['user'])).toBe(false)
        expect(await store.load(record.key)).toBeUndefined()
      })
    })

    describe('touch', () => {
      it('moves only updatedAt and expiresAt: data and createdAt stay', async () => {
        const record = newRecord({ data: { user: 'ada', count: 7 } })
        await store.create(record)
        const touched = {
          key: record.key,
          updatedAt: record.updatedAt + 60,
          expiresAt: record.expiresAt + 60,
        }
        expect(await store.touch(touched)).toBe(true)
        expect(await store.load(record.key)).toEqual({ ...record, ...touched })
      })

      it('returns false for a missing key and creates nothing', async () => {
        const record = newRecord()
        expect(await store.touch(record)).toBe(false)
        expect(await store.load(record.key)).toBeUndefined()
        expect(await store.create(record)).toBe(true)
      })

      it('returns false for a record past expiresAt and does not revive it', async () => {
        const record = newRecord({ expiresAt: nowInSeconds() - 1 })
        await store.create(record)
        const touched = { key: record.key, updatedAt: nowInSeconds(), expiresAt: nowInSeconds() + HOUR }
        expect(await store.touch(touched)).toBe(false)
        expect(await store.load(record.key)).toBeUndefined()
      })
    })

    describe('delete', () => {
      it('removes the record: load is undefined and the key can be created again', async () => {
        const record = newRecord()
        await store.create(record)
        expect(await store.delete(record.key)).toBe(true)
        expect(await store.load(record.key)).toBeUndefined()
        expect(await store.touch(record)).toBe(false)
        expect(await store.create(record)).toBe(true)
      })

      it('of a missing key resolves without error and leaves other records alone', async () => {
        const other = newRecord()
        await store.create(other)
        await expect(store.delete(newRecord().key)).resolves.toBe(true)
        expect(await store.load(other.key)).toEqual(other)
      })

      it('with onlyIf, removes a live record and reports a missing or expired one', async () => {
        const live = newRecord()
        const expired = newRecord({ expiresAt: nowInSeconds() - 1 })
        await store.create(live)
        await store.create(expired)
        expect(await store.delete(live.key, { onlyIf: 'live' })).toBe(true)
        expect(await store.load(live.key)).toBeUndefined()
        expect(await store.delete(live.key, { onlyIf: 'live' })).toBe(false)
        expect(await store.delete(expired.key, { onlyIf: 'live' })).toBe(false)
      })

      it('with onlyIf a version, keeps a record updated since that version', async () => {
        const record = newRecord()
        await store.create(record)
        expect(await store.update({ ...record, data: { user: 'bob' } }, ['user'])).toBe(true)
        expect(await store.delete(record.key, { onlyIf: { version: 0 } })).toBe(false)
        expect((await store.load(record.key))?.data).toEqual({ user: 'bob', count: 1 })
        expect(await store.delete(record.key, { onlyIf: { version: 1 } })).toBe(true)
        expect(await store.load(record.key)).toBeUndefined()
      })
    })

    // An SDK retries a write whose answer was lost, though the write landed: the store must know
    // its own write (by writeId) rather than read it as another request's change.
    describe('a write repeated after its answer was lost', () => {
      // Write ids name one write only: DynamoDB keeps a delete's for ten minutes, across tables.
      const writeId = () => crypto.randomUUID()

      it('create: the repeat answers true, and the record is stored once', async () => {
        const record = newRecord({ writeId: writeId() })
        expect(await store.create(record)).toBe(true)
        expect(await store.create(record)).toBe(true)
        expect(await store.create({ ...record, writeId: writeId() })).toBe(false)
        const { writeId: _, ...stored } = record
        expect(await store.load(record.key)).toEqual(stored)
      })

      it('update with ifUnchanged: the repeat answers true, and the version moved once', async () => {
        const record = newRecord()
        await store.create(record)
        const update = { ...record, data: { user: 'bob' }, version: 0, writeId: writeId() }
        expect(await store.update(update, ['user'], { ifUnchanged: true })).toBe(true)
        expect(await store.update(update, ['user'], { ifUnchanged: true })).toBe(true)
        expect(await store.load(record.key)).toMatchObject({ data: { user: 'bob', count: 1 }, version: 1 })
        const other = { ...update, data: { user: 'eve' }, writeId: writeId() }
        expect(await store.update(other, ['user'], { ifUnchanged: true })).toBe(false)
      })

      it('delete if live: the repeat of this very delete answers true, another delete false', async () => {
        const record = newRecord()
        await store.create(record)
        const once = writeId()
        expect(await store.delete(record.key, { onlyIf: 'live', writeId: once })).toBe(true)
        expect(await store.delete(record.key, { onlyIf: 'live', writeId: once })).toBe(true)
        expect(await store.delete(record.key, { onlyIf: 'live', writeId: writeId() })).toBe(false)
        expect(await store.load(record.key)).toBeUndefined()
      })

      it('delete at a version: true when nothing live is left to delete, false after another update', async () => {
        const gone = newRecord()
        await store.create(gone)
        expect(await store.delete(gone.key, { onlyIf: { version: 0 } })).toBe(true)
        expect(await store.delete(gone.key, { onlyIf: { version: 0 } })).toBe(true)
        const expired = newRecord({ expiresAt: nowInSeconds() - 1 })
        await store.create(expired)
        expect(await store.delete(expired.key, { onlyIf: { version: 0 } })).toBe(true)
      })
    })

    describe('odd keys and data', () => {
      const oddKeys = [
        'a/b+c=d',
        'with space',
        'dots.and#hash:colon',
        'ünïcödé-🔑',
        'quote\'"back\\slash',
        '~tilde',
      ]

      for (const key of oddKeys) {
        it(`round-trips the record key ${JSON.stringify(key)} through create, update, touch and delete`, async () => {
          const record = { ...newRecord(), key: `${key}-${crypto.randomUUID()}` }
          expect(await store.create(record)).toBe(true)
          expect(await store.load(record.key)).toEqual(record)
          const updated = { ...record, data: { ...record.data, count: 2 } }
          expect(await store.update(updated, ['count'])).toBe(true)
          expect(await store.touch(updated)).toBe(true)
          expect(await store.load(record.key)).toEqual({ ...updated, version: 1 })
          await store.delete(record.key)
          expect(await store.load(record.key)).toBeUndefined()
        })
      }

      /** Data whose keys collide with Object.prototype, the stores' own escaping, and JSON oddities. */
      function hostileData(): Record<string, unknown> {
        const data = JSON.parse(
          '{"__proto__": {"x": 1}, "constructor": {"prototype": {"polluted": true}}, "toString": "str",' +
            ' "hasOwnProperty": 0, "": "empty key", "~": "tilde", "~~x": "two tildes", "~__proto__": "escaped look-alike"}',
        ) as Record<string, unknown>
        data['ключ 🔑'] = 'значение ✓ 漢字 \u0000 \ud83d\ude00'
        data.nested = [[1, [2, [3, []]]], { deep: [{ a: null }] }, '', false, -0.5, 1e21]
        data['a.b[0]'] = { 'x.y': 'dots and brackets in names' }
        return data
      }

      it('round-trips data with keys like __proto__, constructor, unicode and nested arrays exactly', async () => {
        const record = newRecord({ data: hostileData() })
        expect(Object.hasOwn(record.data, '__proto__')).toBe(true)
        await store.create(record)
        const loaded = await store.load(record.key)
        expect(loaded).toEqual(record)
        expect(Object.keys(loaded?.data ?? {}).sort()).toEqual(Object.keys(record.data).sort())
        expect(Object.getPrototypeOf(loaded?.data)).toBe(Object.prototype)
        expect(Object.getOwnPropertyDescriptor(loaded?.data, '__proto__')?.value).toEqual({ x: 1 })
        expect(({} as Record<string, unknown>).x).toBeUndefined()
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
        expect(Object.hasOwn(Object.prototype, 'x')).toBe(false)
      })

      it('updates and removes keys like __proto__ and constructor as plain data', async () => {
        const record = newRecord({ data: { keep: 1 } })
        await store.create(record)
        const data = hostileData()
        const changed = Object.keys(data)
        expect(await store.update({ ...record, data: { keep: 1, ...data } }, changed)).toBe(true)
        const loaded = await store.load(record.key)
        expect(Object.getOwnPropertyDescriptor(loaded?.data, '__proto__')?.value).toEqual({ x: 1 })
        expect(loaded?.data).toEqual({ keep: 1, ...data })
        expect(Object.getPrototypeOf(loaded?.data)).toBe(Object.prototype)

        expect(await store.update({ ...record, data: { keep: 1 } }, changed)).toBe(true)
        const emptied = await store.load(record.key)
        expect(Object.keys(emptied?.data ?? {})).toEqual(['keep'])
        expect(({} as Record<string, unknown>).x).toBeUndefined()
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      })
    })
  })
}
