import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { SessionError, SessionStoreError, SessionTooLargeError } from '../errors.ts'
import {
  nowInSeconds,
  type SessionRecord,
  type Store,
  setOwn,
  type UpdateOptions,
  type UserSession,
  withChanges,
} from '../store/store.ts'
import { gunzip, gzip } from './compression.ts'

export interface DynamoDBStoreOptions {
  /** The table's name. Required. */
  tableName: string
  /** A client of your own; otherwise one is made from `region`, `endpoint` and `credentials`. */
  client?: DynamoDBClient
  region?: string
  /** For DynamoDB Local or another compatible endpoint, e.g. `http://127.0.0.1:8000`. */
  endpoint?: string
  credentials?: DynamoDBClientConfig['credentials']
  /**
   * Strongly consistent reads, so a write from the previous request is always seen.
   * @default true
   */
  consistentRead?: boolean
  /** The partition key attribute. @default 'session_id' */
  keyAttribute?: string
  /** Put before every key, to share a table with other items. @default '' */
  keyPrefix?: string
  /** For single-table designs: the sort key attribute and the value every session item gets. */
  sortKey?: { attribute: string; value: string }
  /** The map attribute holding the session data, each value a JSON string. @default 'data' */
  dataAttribute?: string
  /** The epoch-seconds expiry attribute; turn DynamoDB TTL on for it. @default 'expire_at' */
  expiresAttribute?: string
  /**
   * Store values whose JSON is at least this many bytes gzipped (as binary), when that is
   * smaller: DynamoDB bills a write by the KB of the whole item. `true` means 1024.
   * @default false
   */
  compress?: boolean | number
  /** The attribute holding the user a session is bound to (`session.setUser()`). @default 'user_id' */
  userAttribute?: string
  /**
   * The global secondary index on `userAttribute` that `listUserSessions()` and
   * `destroyUserSessions()` query; `createTable()` makes it. @default 'user_id-index'
   */
  userIndex?: string
  /**
   * Milliseconds one store operation may take, the SDK's retries of throttling and 5xx
   * included; then it fails with a `SessionStoreError` and `onError` decides.
   * @default 5000
   */
  timeout?: number
}

/** DynamoDB's item size limit: 400 KB. */
export const MAX_ITEM_BYTES = 400 * 1024

const CREATED_AT = 'created_at'
const UPDATED_AT = 'updated_at'
/** How many updates an item has had (absent means 0); see `SessionRecord.version`. */
const VERSION = 'version'

/**
 * Where a session item keeps what, with the defaults applied. `DynamoDBStore`, `createTable` and
 * `collectGarbage` all read it from here, so one options object describes the same table to each.
 */
export interface TableLayout {
  tableName: string
  keyAttribute: string
  keyPrefix: string
  sortKey: { attribute: string; value: string } | undefined
  dataAttribute: string
  expiresAttribute: string
  /** Epoch seconds of the session's creation; not configurable. */
  createdAttribute: string
  /** Epoch seconds of the session's last write or touch; not configurable. */
  updatedAttribute: string
  /** The user a session is bound to, for the user index. */
  userAttribute: string
  /** The global secondary index on `userAttribute`. */
  userIndex: string
}

/**
 * The table layout of a store's options, validated, with the defaults applied.
 *
 * @example
 * resolveTableLayout({ tableName: 'sessions' }).keyAttribute // 'session_id'
 */
export function resolveTableLayout(
  options: Pick<
    DynamoDBStoreOptions,
    | 'tableName'
    | 'keyAttribute'
    | 'keyPrefix'
    | 'sortKey'
    | 'dataAttribute'
    | 'expiresAttribute'
    | 'userAttribute'
    | 'userIndex'
  >,
  owner = 'DynamoDBStore',
): TableLayout {
  if (typeof options?.tableName !== 'string' || options.tableName === '') {
    throw new Error(`${owner} requires the "tableName" option: the name of the sessions table.`)
  }
  for (const name of [
    'keyAttribute',
    'dataAttribute',
    'expiresAttribute',
    'userAttribute',
    'userIndex',
  ] as const) {
    if (options[name] === '') throw new Error(`${owner} option "${name}" must not be empty.`)
  }
  if (options.sortKey && (!options.sortKey.attribute || typeof options.sortKey.value !== 'string')) {
    throw new Error(`${owner} option "sortKey" needs an "attribute" name and a string "value".`)
  }
  return {
    tableName: options.tableName,
    keyAttribute: options.keyAttribute ?? 'session_id',
    keyPrefix: options.keyPrefix ?? '',
    sortKey: options.sortKey,
    dataAttribute: options.dataAttribute ?? 'data',
    expiresAttribute: options.expiresAttribute ?? 'expire_at',
    createdAttribute: CREATED_AT,
    updatedAttribute: UPDATED_AT,
    userAttribute: options.userAttribute ?? 'user_id',
    userIndex: options.userIndex ?? 'user_id-index',
  }
}

/**
 * An update names each changed key in its expression (about 21 characters each); past this many
 * keys it writes the whole data map instead, to stay under DynamoDB's 4 KB expression limit.
 */
const MAX_KEYS_PER_UPDATE = 150
/** The condition of every conditional write: the item exists and has not expired. */
const LIVE = 'attribute_exists(#key) AND #expires > :now'
/** How often a whole-map write is tried again on top of a concurrent change before it fails. */
const MAX_REPLACE_ATTEMPTS = 3
/** BatchGetItem takes at most 100 keys; unprocessed ones are asked again a few times. */
const BATCH_GET_LIMIT = 100
const BATCH_GET_ATTEMPTS = 5

/**
 * Keeps sessions in a DynamoDB table, one item per session, keyed by the SHA-256 of the
 * session id. The data is a map with one JSON string per key, and an update sets only the keys
 * that changed, so concurrent requests of one session changing different keys all keep their
 * change, with no read before the write and no retry (past 150 changed keys, a compare-and-swap
 * of the whole map, re-applied on a conflict). Every write is conditional: create never
 * overwrites, update and touch need the item to exist and be live, so nothing resurrects a
 * destroyed session.
 *
 * @example
 * const store = new DynamoDBStore({ tableName: 'sessions', region: 'eu-west-1' })
 */
export class DynamoDBStore implements Store {
  readonly client: DynamoDBClient
  readonly #tableName: string
  readonly #consistentRead: boolean
  readonly #keyAttribute: string
  readonly #keyPrefix: string
  readonly #sortKey: DynamoDBStoreOptions['sortKey']
  readonly #dataAttribute: string
  readonly #expiresAttribute: string
  readonly #timeout: number
  readonly #compressFrom: number
  readonly #userAttribute: string
  readonly #userIndex: string

  constructor(options: DynamoDBStoreOptions) {
    const layout = resolveTableLayout(options)
    if (options.timeout !== undefined && !(Number.isInteger(options.timeout) && options.timeout > 0)) {
      throw new Error(`DynamoDBStore option "timeout" must be a positive whole number of milliseconds.`)
    }
    this.client = options.client ?? new DynamoDBClient(clientConfig(options))
    this.#tableName = layout.tableName
    this.#consistentRead = options.consistentRead ?? true
    this.#keyAttribute = layout.keyAttribute
    this.#keyPrefix = layout.keyPrefix
    this.#sortKey = layout.sortKey
    this.#dataAttribute = layout.dataAttribute
    this.#expiresAttribute = layout.expiresAttribute
    this.#timeout = options.timeout ?? 5000
    this.#compressFrom = compressionThreshold(options.compress)
    this.#userAttribute = layout.userAttribute
    this.#userIndex = layout.userIndex
  }

  async load(key: string): Promise<SessionRecord | undefined> {
    return this.#load(key, this.#consistentRead)
  }

  async #load(key: string, consistentRead: boolean): Promise<SessionRecord | undefined> {
    const { Item: item } = await this.#send('GetItem', (client, options) =>
      client.send(
        new GetItemCommand({
          TableName: this.#tableName,
          Key: this.#key(key),
          ConsistentRead: consistentRead,
        }),
        options,
      ),
    )
    return this.#live(key, item)
  }

  async create(record: SessionRecord): Promise<boolean> {
    const item = await this.#toItem(record)
    return this.#written('PutItem', (client, options) =>
      client.send(
        new PutItemCommand({
          TableName: this.#tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { '#key': this.#keyAttribute },
        }),
        options,
      ),
    )
  }

  async update(
    record: SessionRecord,
    changedKeys: readonly string[],
    { userChanged = false, ifUnchanged = false }: UpdateOptions = {},
  ): Promise<boolean> {
    const write = (replaced: SessionRecord, keys: readonly string[] | 'all') =>
      this.#update(replaced, keys, userChanged, ifUnchanged || keys === 'all')
    if (changedKeys.length <= MAX_KEYS_PER_UPDATE) return write(record, changedKeys)
    if (ifUnchanged) return write(record, 'all')
    // Too many keys to name one by one: the whole map is written, on condition that no update came
    // since `base` was read (compare-and-swap on the version). When one did, this request's
    // changes are applied again on top of what is stored now, so neither request loses its change.
    let base: SessionRecord = record
    for (let attempt = 1; attempt <= MAX_REPLACE_ATTEMPTS; attempt++) {
      const replaced = {
        ...record,
        version: base.version,
        data: withChanges(base.data, record.data, changedKeys),
      }
      if (await write(replaced, 'all')) return true
      const current = await this.#load(record.key, true)
      if (!current) return false // destroyed meanwhile: it stays destroyed
      base = current
    }
    throw new SessionError(
      'SESSION_CONFLICT',
      `Other requests changed the session ${MAX_REPLACE_ATTEMPTS} times while this one wrote its ${changedKeys.length} ` +
        'changed keys; nothing was written. The client may retry.',
    )
  }

  /**
   * One conditional UpdateItem of the keys named, or with `'all'` of the whole data map; with
   * `checkVersion`, only while the item is still at `record.version`.
   */
  async #update(
    record: SessionRecord,
    changedKeys: readonly string[] | 'all',
    userChanged: boolean,
    checkVersion: boolean,
  ) {
    const item = await this.#toItem(record)
    const names: Record<string, string> = {
      '#key': this.#keyAttribute,
      '#updated': UPDATED_AT,
      '#expires': this.#expiresAttribute,
      '#version': VERSION,
    }
    const values: Record<string, AttributeValue> = {
      ':updated': number(record.updatedAt),
      ':expires': number(record.expiresAt),
      ':now': number(nowInSeconds()),
      ':one': number(1),
    }
    const set = ['#updated = :updated', '#expires = :expires']
    const remove: string[] = []
    let condition = LIVE
    // DynamoDB refuses names the expression does not use, so #data only comes with a data change.
    if (changedKeys === 'all') {
      names['#data'] = this.#dataAttribute
      set.push('#data = :data')
      values[':data'] = item[this.#dataAttribute] as AttributeValue
    } else if (changedKeys.length > 0) {
      names['#data'] = this.#dataAttribute
      const data = item[this.#dataAttribute]?.M ?? {}
      changedKeys.forEach((key, index) => {
        names[`#k${index}`] = toMapKey(key)
        const value = Object.hasOwn(data, toMapKey(key)) ? data[toMapKey(key)] : undefined // not inherited
        if (value) {
          set.push(`#data.#k${index} = :v${index}`)
          values[`:v${index}`] = value
        } else {
          remove.push(`#data.#k${index}`)
        }
      })
    }
    if (checkVersion) condition += ` AND ${versionCondition(record.version, values)}`
    if (userChanged) {
      names['#user'] = this.#userAttribute
      if (record.userId === undefined) remove.push('#user')
      else {
        set.push('#user = :user')
        values[':user'] = { S: record.userId }
      }
    }
    const expression = `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''} ADD #version :one`
    return this.#written('UpdateItem', (client, options) =>
      client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: this.#key(record.key),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        options,
      ),
    )
  }

  async touch(record: Pick<SessionRecord, 'key' | 'updatedAt' | 'expiresAt'>): Promise<boolean> {
    return this.#written('UpdateItem', (client, options) =>
      client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: this.#key(record.key),
          UpdateExpression: 'SET #updated = :updated, #expires = :expires',
          ConditionExpression: LIVE,
          ExpressionAttributeNames: {
            '#key': this.#keyAttribute,
            '#updated': UPDATED_AT,
            '#expires': this.#expiresAttribute,
          },
          ExpressionAttributeValues: {
            ':updated': number(record.updatedAt),
            ':expires': number(record.expiresAt),
            ':now': number(nowInSeconds()),
          },
        }),
        options,
      ),
    )
  }

  async delete(key: string, onlyIf?: 'live' | { version: number }): Promise<boolean> {
    if (!onlyIf) {
      await this.#send('DeleteItem', (client, options) =>
        client.send(new DeleteItemCommand({ TableName: this.#tableName, Key: this.#key(key) }), options),
      )
      return true
    }
    const names: Record<string, string> = { '#key': this.#keyAttribute, '#expires': this.#expiresAttribute }
    const values: Record<string, AttributeValue> = { ':now': number(nowInSeconds()) }
    let condition = LIVE
    if (onlyIf !== 'live') {
      names['#version'] = VERSION
      condition += ` AND ${versionCondition(onlyIf.version, values)}`
    }
    return this.#written('DeleteItem', (client, options) =>
      client.send(
        new DeleteItemCommand({
          TableName: this.#tableName,
          Key: this.#key(key),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        options,
      ),
    )
  }

  /**
   * The user index holds only keys, so that a session's writes never write the index too; the
   * times are read from the table itself, strongly consistent, which also drops index entries of
   * sessions already deleted.
   */
  async findByUser(userId: string): Promise<UserSession[]> {
    const keys: string[] = []
    let start: Record<string, AttributeValue> | undefined
    do {
      const exclusiveStartKey = start
      const page = await this.#send('Query', (client, options) =>
        client.send(
          new QueryCommand({
            TableName: this.#tableName,
            IndexName: this.#userIndex,
            KeyConditionExpression: '#user = :user',
            ExpressionAttributeNames: { '#user': this.#userAttribute },
            ExpressionAttributeValues: { ':user': { S: userId } },
            ExclusiveStartKey: exclusiveStartKey,
          }),
          options,
        ),
      )
      for (const item of page.Items ?? []) {
        const key = item[this.#keyAttribute]?.S
        // In a shared table, only this store's items: its prefix and its sort key value.
        if (key === undefined || !key.startsWith(this.#keyPrefix)) continue
        if (this.#sortKey && item[this.#sortKey.attribute]?.S !== this.#sortKey.value) continue
        keys.push(key.slice(this.#keyPrefix.length))
      }
      start = page.LastEvaluatedKey
    } while (start)
    const sessions: UserSession[] = []
    for (let first = 0; first < keys.length; first += BATCH_GET_LIMIT) {
      sessions.push(...(await this.#times(keys.slice(first, first + BATCH_GET_LIMIT), userId)))
    }
    return sessions
  }

  /** The times of up to 100 live sessions still bound to `userId`, by BatchGetItem. */
  async #times(keys: string[], userId: string): Promise<UserSession[]> {
    const found: UserSession[] = []
    const now = nowInSeconds()
    let pending: Record<string, AttributeValue>[] = keys.map((key) => this.#key(key))
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > BATCH_GET_ATTEMPTS) {
        throw new SessionStoreError(
          `BatchGetItem on table "${this.#tableName}"`,
          new Error('keys left unprocessed'),
        )
      }
      const request = pending
      const answer = await this.#send('BatchGetItem', (client, options) =>
        client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.#tableName]: {
                Keys: request,
                ConsistentRead: true,
                ProjectionExpression: '#key, #created, #updated, #expires, #user',
                ExpressionAttributeNames: {
                  '#key': this.#keyAttribute,
                  '#created': CREATED_AT,
                  '#updated': UPDATED_AT,
                  '#expires': this.#expiresAttribute,
                  '#user': this.#userAttribute,
                },
              },
            },
          }),
          options,
        ),
      )
      for (const item of answer.Responses?.[this.#tableName] ?? []) {
        const expiresAt = Number(item[this.#expiresAttribute]?.N)
        if (!(expiresAt > now) || item[this.#userAttribute]?.S !== userId) continue
        found.push({
          key: (item[this.#keyAttribute]?.S ?? '').slice(this.#keyPrefix.length),
          createdAt: Number(item[CREATED_AT]?.N ?? 0),
          updatedAt: Number(item[UPDATED_AT]?.N ?? 0),
          expiresAt,
        })
      }
      pending = answer.UnprocessedKeys?.[this.#tableName]?.Keys ?? []
      if (pending.length > 0)
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 50 * 2 ** attempt))
    }
    return found
  }

  #key(key: string): Record<string, AttributeValue> {
    const itemKey: Record<string, AttributeValue> = { [this.#keyAttribute]: { S: this.#keyPrefix + key } }
    if (this.#sortKey) itemKey[this.#sortKey.attribute] = { S: this.#sortKey.value }
    return itemKey
  }

  /** Builds the whole item, refusing one over DynamoDB's limit before any call is made. */
  async #toItem(record: SessionRecord): Promise<Record<string, AttributeValue>> {
    const values = await Promise.all(
      Object.entries(record.data).map(
        async ([key, value]) => [toMapKey(key), await this.#toValue(value)] as const,
      ),
    )
    const item: Record<string, AttributeValue> = {
      ...this.#key(record.key),
      [this.#dataAttribute]: { M: Object.fromEntries(values) },
      [CREATED_AT]: number(record.createdAt),
      [UPDATED_AT]: number(record.updatedAt),
      [this.#expiresAttribute]: number(record.expiresAt),
      ...(record.userId === undefined ? {} : { [this.#userAttribute]: { S: record.userId } }),
    }
    const size = itemSize(item)
    if (size > MAX_ITEM_BYTES) throw new SessionTooLargeError(size, MAX_ITEM_BYTES)
    return item
  }

  /** A value as JSON text, or gzipped JSON when large enough and smaller for it. */
  async #toValue(value: unknown): Promise<AttributeValue> {
    const json = JSON.stringify(value)
    if (json.length >= this.#compressFrom) {
      const compressed = await gzip(json)
      if (compressed.length < encoder.encode(json).length) return { B: compressed }
    }
    return { S: json }
  }

  /** TTL deletes expired items hours or days late, so expiry is checked on every read. */
  async #live(
    key: string,
    item: Record<string, AttributeValue> | undefined,
  ): Promise<SessionRecord | undefined> {
    const record = item && (await this.#fromItem(key, item))
    return record && record.expiresAt > nowInSeconds() ? record : undefined
  }

  async #fromItem(key: string, item: Record<string, AttributeValue>): Promise<SessionRecord | undefined> {
    const map = item[this.#dataAttribute]?.M
    const expiresAt = Number(item[this.#expiresAttribute]?.N)
    if (map === undefined || !Number.isFinite(expiresAt)) return undefined
    const data: Record<string, unknown> = {}
    try {
      for (const [name, value] of Object.entries(map)) {
        // Values written compressed stay readable when compression is turned off, and the other way round.
        const json = value.S ?? (value.B && (await gunzip(value.B)))
        if (json === undefined) return undefined
        setOwn(data, fromMapKey(name), JSON.parse(json))
      }
    } catch {
      return undefined // an item this library did not write reads as no session
    }
    return {
      key,
      data,
      createdAt: Number(item[CREATED_AT]?.N ?? 0),
      updatedAt: Number(item[UPDATED_AT]?.N ?? 0),
      expiresAt,
      userId: item[this.#userAttribute]?.S,
      ...(item[VERSION] ? { version: Number(item[VERSION].N) } : {}),
    }
  }

  /** True when written, false when the condition failed. */
  async #written(operation: string, command: Command<unknown>): Promise<boolean> {
    try {
      await this.#send(operation, command)
      return true
    } catch (error) {
      if (error instanceof SessionStoreError && error.cause instanceof ConditionalCheckFailedException)
        return false
      throw error
    }
  }

  async #send<Output>(operation: string, command: Command<Output>): Promise<Output> {
    try {
      return await command(this.client, { abortSignal: AbortSignal.timeout(this.#timeout) })
    } catch (error) {
      // Other requests may have grown the item past what this one could count before sending.
      if (
        error instanceof Error &&
        error.name === 'ValidationException' &&
        /item size/i.test(error.message)
      ) {
        throw new SessionTooLargeError(undefined, MAX_ITEM_BYTES)
      }
      throw new SessionStoreError(`${operation} on table "${this.#tableName}"`, error)
    }
  }
}

function compressionThreshold(compress: DynamoDBStoreOptions['compress']): number {
  if (compress === undefined || compress === false) return Number.POSITIVE_INFINITY
  if (compress === true) return 1024
  if (!Number.isInteger(compress) || compress < 1) {
    throw new Error('DynamoDBStore option "compress" must be true, false, or a whole number of bytes.')
  }
  return compress
}

/**
 * Session keys as map keys. The SDK builds maps as plain objects, where `__proto__` would be
 * lost, and DynamoDB refuses an empty name; such keys, and keys starting with `~`, get a `~`.
 */
function toMapKey(key: string): string {
  return key === '' || key === '__proto__' || key.startsWith('~') ? `~${key}` : key
}

function fromMapKey(name: string): string {
  return name.startsWith('~') ? name.slice(1) : name
}

/** One SDK call, so `#send` can wrap its errors while keeping its output type. */
type Command<Output> = (client: DynamoDBClient, options: { abortSignal: AbortSignal }) => Promise<Output>

/** The SDK client settings given in a store's options; the SDK's own defaults fill the rest. */
export function clientConfig({
  region,
  endpoint,
  credentials,
}: Pick<DynamoDBStoreOptions, 'region' | 'endpoint' | 'credentials'>): DynamoDBClientConfig {
  const config: DynamoDBClientConfig = {}
  if (region !== undefined) config.region = region
  if (endpoint !== undefined) config.endpoint = endpoint
  if (credentials !== undefined) config.credentials = credentials
  return config
}

/** The condition that an item is still at `version`: absent and 0 both mean no update yet. */
function versionCondition(version: number | undefined, values: Record<string, AttributeValue>): string {
  values[':version'] = number(version ?? 0)
  return version ? '#version = :version' : '(attribute_not_exists(#version) OR #version = :version)'
}

function number(value: number): AttributeValue {
  return { N: String(value) }
}

const encoder = new TextEncoder()

/**
 * An item's size as DynamoDB counts it: each attribute's name in UTF-8 bytes plus its value:
 * strings in UTF-8 bytes, numbers about one byte per two significant digits plus one, maps
 * 3 bytes plus 1 byte and the name and value of each entry.
 */
export function itemSize(item: Record<string, AttributeValue>): number {
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
