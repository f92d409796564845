// The expressions of the store's writes, and so every condition they are made on, in one place.
// Pure: each function returns the parts of one command's input that DynamoDB reads as
// expressions, for the store to spread into the command beside its table name and key.
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { SessionRecord } from '../store/store.ts'
import { type Item, numberValue, toMapKey } from './item.ts'
import type { TableLayout } from './options.ts'

/** The condition of a write and the names and values it (and any update expression) uses. */
export interface Condition {
  ConditionExpression: string
  ExpressionAttributeNames: Record<string, string>
  ExpressionAttributeValues?: Record<string, AttributeValue>
}

export interface Update extends Condition {
  UpdateExpression: string
  ExpressionAttributeValues: Record<string, AttributeValue>
}

/** What an update writes besides the times: which data keys (or `'all'` of them) and the user. */
export interface Change {
  keys: readonly string[] | 'all'
  userChanged: boolean
  /** Write only while the item is still at `record.version` (compare-and-swap). */
  checkVersion: boolean
  /**
   * Write only while the data map's entry `key` is one of `forms` (the stored forms of the value
   * that was read), or, with no forms, absent: a compare-and-swap on one key.
   */
  ifValue?: { key: string; forms: AttributeValue[] } | undefined
}

/** Create never overwrites: not even an expired item that TTL has not deleted yet. */
const ABSENT = 'attribute_not_exists(#key)'
/** Every other conditional write: the item exists and has not expired, so nothing resurrects it. */
const LIVE = 'attribute_exists(#key) AND #expires > :now'

/**
 * The condition of a create: no item has the key.
 *
 * @example
 * new PutItemCommand({ TableName, Item, ...createCondition(layout) })
 */
export function createCondition(layout: TableLayout): Condition {
  return { ConditionExpression: ABSENT, ExpressionAttributeNames: { '#key': layout.keyAttribute } }
}

/**
 * A touch: new times for a live item, its data and version untouched.
 *
 * @example
 * new UpdateItemCommand({ TableName, Key, ...touchExpressions(layout, record, nowInSeconds()) })
 */
export function touchExpressions(
  layout: TableLayout,
  record: Pick<SessionRecord, 'updatedAt' | 'expiresAt'>,
  now: number,
): Update {
  return {
    UpdateExpression: 'SET #updated = :updated, #expires = :expires',
    ConditionExpression: LIVE,
    ExpressionAttributeNames: {
      '#key': layout.keyAttribute,
      '#updated': layout.updatedAttribute,
      '#expires': layout.expiresAttribute,
    },
    ExpressionAttributeValues: {
      ':updated': numberValue(record.updatedAt),
      ':expires': numberValue(record.expiresAt),
      ':now': numberValue(now),
    },
  }
}

/**
 * An update of a live item: new times, the changed keys of `data` (the item's encoded data map)
 * set or, when absent from it, removed (or with `'all'` the whole map), the user when changed,
 * and one more version.
 *
 * @example
 * const expressions = updateExpressions(layout, record, item.data.M, { keys: ['cart'], userChanged: false, checkVersion: false }, now)
 */
export function updateExpressions(
  layout: TableLayout,
  record: Pick<SessionRecord, 'updatedAt' | 'expiresAt' | 'userId' | 'version' | 'writeId'>,
  data: Item,
  { keys, userChanged, checkVersion, ifValue }: Change,
  now: number,
): Update {
  const parts: Parts = {
    names: {
      '#key': layout.keyAttribute,
      '#updated': layout.updatedAttribute,
      '#expires': layout.expiresAttribute,
      '#version': layout.versionAttribute,
    },
    values: {
      ':updated': numberValue(record.updatedAt),
      ':expires': numberValue(record.expiresAt),
      ':now': numberValue(now),
      ':one': numberValue(1),
    },
    set: ['#updated = :updated', '#expires = :expires'],
    remove: [],
  }
  // DynamoDB refuses names the expression does not use, so #data only comes with a data change.
  if (keys === 'all' || keys.length > 0) parts.names['#data'] = layout.dataAttribute
  if (keys === 'all') {
    parts.set.push('#data = :data')
    parts.values[':data'] = { M: data }
  } else {
    setKeys(parts, keys, data)
  }
  let condition = checkVersion ? `${LIVE} AND ${versionCondition(record.version, parts.values)}` : LIVE
  if (ifValue) condition += ` AND ${valueCondition(parts, layout, ifValue)}`
  if (userChanged) setUser(parts, layout, record.userId)
  if (record.writeId !== undefined) {
    parts.names['#write'] = layout.writeIdAttribute
    parts.set.push('#write = :write')
    parts.values[':write'] = { S: record.writeId }
  }
  const { set, remove } = parts
  return {
    UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''} ADD #version :one`,
    ConditionExpression: condition,
    ExpressionAttributeNames: parts.names,
    ExpressionAttributeValues: parts.values,
  }
}

/**
 * The condition of a conditional delete: the item is live, and with `{ version }` still at that
 * version.
 *
 * @example
 * new DeleteItemCommand({ TableName, Key, ...deleteCondition(layout, { version: 3 }, nowInSeconds()) })
 */
export function deleteCondition(
  layout: TableLayout,
  onlyIf: 'live' | { version: number },
  now: number,
): Condition {
  const names: Record<string, string> = { '#key': layout.keyAttribute, '#expires': layout.expiresAttribute }
  const values: Record<string, AttributeValue> = { ':now': numberValue(now) }
  let condition = LIVE
  if (onlyIf !== 'live') {
    names['#version'] = layout.versionAttribute
    condition += ` AND ${versionCondition(onlyIf.version, values)}`
  }
  return {
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  }
}

/** An update expression as it is built: its names, values and SET and REMOVE clauses. */
interface Parts {
  names: Record<string, string>
  values: Record<string, AttributeValue>
  set: string[]
  remove: string[]
}

/** Each key by a name of its own (#k0, #k1, …), as session keys may hold any character. */
function setKeys(parts: Parts, keys: readonly string[], data: Item): void {
  keys.forEach((key, index) => {
    const name = toMapKey(key)
    parts.names[`#k${index}`] = name
    const value = Object.hasOwn(data, name) ? data[name] : undefined // not inherited
    if (value) {
      parts.set.push(`#data.#k${index} = :v${index}`)
      parts.values[`:v${index}`] = value
    } else {
      parts.remove.push(`#data.#k${index}`)
    }
  })
}

/** A session bound to no user has no user attribute, so the user index holds only bound ones. */
function setUser(parts: Parts, layout: TableLayout, userId: string | undefined): void {
  parts.names['#user'] = layout.userAttribute
  if (userId === undefined) {
    parts.remove.push('#user')
  } else {
    parts.set.push('#user = :user')
    parts.values[':user'] = { S: userId }
  }
}

/** The condition that an item is still at `version`: absent and 0 both mean no update yet. */
function versionCondition(version: number | undefined, values: Record<string, AttributeValue>): string {
  values[':version'] = numberValue(version ?? 0)
  return version ? '#version = :version' : '(attribute_not_exists(#version) OR #version = :version)'
}

/**
 * The condition that the data map's entry `key` still holds one of `forms` (JSON text, or its
 * gzip when stored compressed), or is absent when there are none.
 */
function valueCondition(
  parts: Parts,
  layout: TableLayout,
  { key, forms }: { key: string; forms: AttributeValue[] },
): string {
  parts.names['#data'] = layout.dataAttribute
  parts.names['#ifKey'] = toMapKey(key)
  if (forms.length === 0) return 'attribute_not_exists(#data.#ifKey)'
  const names = forms.map((form, index) => {
    parts.values[`:if${index}`] = form
    return `:if${index}`
  })
  return `#data.#ifKey IN (${names.join(', ')})`
}
