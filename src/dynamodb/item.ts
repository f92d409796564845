// The item codec: a SessionRecord as a DynamoDB item and back, pure (no I/O). Each session key is
// an entry of one map attribute holding the value's JSON text, or its gzipped JSON as binary when
// that is smaller; the times are numbers; the item's key is the prefixed storage key plus, in a
// shared table, the sort key value. DynamoDB refuses items over 400 KB, so `toItem` counts the
// size first and refuses with a `SessionTooLargeError` before any call is made.
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { SessionTooLargeError } from '../errors.ts'
import { type SessionRecord, setOwn } from '../store/store.ts'
import type { TableLayout } from './options.ts'

const encoder = new TextEncoder()

/** DynamoDB's item size limit: 400 KB. */
export const MAX_ITEM_BYTES = 400 * 1024

/** A DynamoDB item, or an item's key, as the SDK reads and writes it. */
export type Item = Record<string, AttributeValue>

/**
 * A number as DynamoDB takes it: decimal text.
 *
 * @example
 * numberValue(1700000000) // { N: '1700000000' }
 */
export function numberValue(value: number): AttributeValue {
  return { N: String(value) }
}

/**
 * The key of the item holding the session stored under `key`.
 *
 * @example
 * itemKey(resolveTableLayout({ tableName: 't', keyPrefix: 's#' }), 'abc') // { session_id: { S: 's#abc' } }
 */
export function itemKey(layout: TableLayout, key: string): Item {
  const item: Item = { [layout.keyAttribute]: { S: layout.keyPrefix + key } }
  if (layout.sortKey) item[layout.sortKey.attribute] = { S: layout.sortKey.value }
  return item
}

/**
 * Whether a scanned or queried item is one of this store's: in a shared table, only items with
 * its key prefix and its sort key value are.
 *
 * @example
 * if (!isOwnItem(item, layout)) continue
 */
export function isOwnItem(item: Item, layout: TableLayout): boolean {
  const key = item[layout.keyAttribute]?.S
  if (key === undefined || !key.startsWith(layout.keyPrefix)) return false
  return !layout.sortKey || item[layout.sortKey.attribute]?.S === layout.sortKey.value
}

/**
 * The storage key of one of this store's items: its partition key without the prefix.
 *
 * @example
 * sessionKeyOf({ session_id: { S: 's#abc' } }, layout) // 'abc', with keyPrefix 's#'
 */
export function sessionKeyOf(item: Item, layout: TableLayout): string {
  return (item[layout.keyAttribute]?.S ?? '').slice(layout.keyPrefix.length)
}

/**
 * An item's times in epoch seconds; a missing creation or update time reads as 0, a missing
 * expiry as NaN (never live).
 *
 * @example
 * timesOf(item, layout).expiresAt > nowInSeconds()
 */
export function timesOf(
  item: Item,
  layout: TableLayout,
): Pick<SessionRecord, 'createdAt' | 'updatedAt' | 'expiresAt'> {
  return {
    createdAt: Number(item[layout.createdAttribute]?.N ?? 0),
    updatedAt: Number(item[layout.updatedAttribute]?.N ?? 0),
    expiresAt: Number(item[layout.expiresAttribute]?.N),
  }
}

/**
 * The whole item of a record, values of `compressFrom` characters or more gzipped when that is
 * smaller. Throws a `SessionTooLargeError` for an item over DynamoDB's limit.
 *
 * @example
 * const item = await toItem(record, layout, Number.POSITIVE_INFINITY)
 */
export async function toItem(
  record: SessionRecord,
  layout: TableLayout,
  compressFrom: number,
): Promise<Item> {
  const values = await Promise.all(
    Object.entries(record.data).map(
      async ([key, value]) => [toMapKey(key), await toValue(value, compressFrom)] as const,
    ),
  )
  const item: Item = {
    ...itemKey(layout, record.key),
    [layout.dataAttribute]: { M: Object.fromEntries(values) },
    [layout.createdAttribute]: numberValue(record.createdAt),
    [layout.updatedAttribute]: numberValue(record.updatedAt),
    [layout.expiresAttribute]: numberValue(record.expiresAt),
    ...(record.userId === undefined ? {} : { [layout.userAttribute]: { S: record.userId } }),
    ...(record.writeId === undefined ? {} : { [layout.writeIdAttribute]: { S: record.writeId } }),
  }
  const size = itemSize(item)
  if (size > MAX_ITEM_BYTES) throw new SessionTooLargeError(size, MAX_ITEM_BYTES)
  return item
}

/** A value as JSON text, or gzipped JSON when large enough and smaller for it. */
async function toValue(value: unknown, compressFrom: number): Promise<AttributeValue> {
  const json = JSON.stringify(value)
  if (json.length >= compressFrom) {
    const compressed = await gzip(json)
    if (compressed.length < encoder.encode(json).length) return { B: compressed }
  }
  return { S: json }
}

/**
 * Every form in which `value` may be stored in the data map: its JSON text, and that text gzipped
 * (written so whenever it was smaller, under the `compress` setting of the time).
 *
 * @example
 * const forms = await storedForms({ count: 1 }) // [{ S: '{"count":1}' }, { B: <gzip> }]
 */
export async function storedForms(value: unknown): Promise<AttributeValue[]> {
  const json = JSON.stringify(value)
  return [{ S: json }, { B: await gzip(json) }]
}

/**
 * The record stored under `key` in `item`, expired or not; undefined for an item this library
 * did not write (no data map, no expiry, a value that is not JSON).
 *
 * @example
 * const record = await fromItem(key, item, layout)
 */
export async function fromItem(
  key: string,
  item: Item,
  layout: TableLayout,
): Promise<SessionRecord | undefined> {
  const map = item[layout.dataAttribute]?.M
  const times = timesOf(item, layout)
  if (map === undefined || !Number.isFinite(times.expiresAt)) return undefined
  const data: Record<string, unknown> = {}
  try {
    for (const [name, value] of Object.entries(map)) {
      // Values written compressed stay readable when compression is turned off, and the other way round.
      const json = value.S ?? (value.B && (await gunzip(value.B)))
      if (json === undefined) return undefined
      setOwn(data, fromMapKey(name), JSON.parse(json))
    }
  } catch {
    return undefined
  }
  const version = item[layout.versionAttribute]
  return {
    key,
    data,
    ...times,
    userId: item[layout.userAttribute]?.S,
    ...(version ? { version: Number(version.N) } : {}),
  }
}

/**
 * A session key as a map key. The SDK builds maps as plain objects, where `__proto__` would be
 * lost, and DynamoDB refuses an empty name; such keys, and keys starting with `~`, get a `~`.
 *
 * @example
 * toMapKey('__proto__') // '~__proto__'
 */
export function toMapKey(key: string): string {
  return key === '' || key === '__proto__' || key.startsWith('~') ? `~${key}` : key
}

function fromMapKey(name: string): string {
  return name.startsWith('~') ? name.slice(1) : name
}

/**
 * An item's size as DynamoDB counts it: each attribute's name in UTF-8 bytes plus its value:
 * strings in UTF-8 bytes, numbers about one byte per two significant digits plus one, maps
 * 3 bytes plus 1 byte and the name and value of each entry.
 *
 * @example
 * itemSize({ id: { S: 'abc' } }) // 5
 */
export function itemSize(item: Item): number {
  let size = 0
  for (const [name, value] of Object.entries(item)) size += encoder.encode(name).length + valueSize(value)
  return size
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return encoder.encode(value.S).length
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^[-0.]+|\.|0+$/g, '').length / 2) + 1
  if (value.B !== undefined) return value.B.length
  if (value.M !== undefined) return 3 + itemSize(value.M) + Object.keys(value.M).length
  return 1
}

// gzip through the Web-standard CompressionStream, on every runtime.

async function gzip(text: string): Promise<Uint8Array> {
  return collect(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip')))
}

async function gunzip(bytes: Uint8Array): Promise<string> {
  const decompressed = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'))
  return new TextDecoder().decode(await collect(decompressed))
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer())
}
