import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'

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
  /** How many updates an item has had (absent means 0; see `SessionRecord.version`); not configurable. */
  versionAttribute: string
  /** The id of the last write that stored the item (see `SessionRecord.writeId`); not configurable. */
  writeIdAttribute: string
  /** The user a session is bound to, for the user index. */
  userAttribute: string
  /** The global secondary index on `userAttribute`. */
  userIndex: string
}

/**
 * The table layout of a store's options, validated, with the defaults applied. `owner` names the
 * function whose options these are, in the error message.
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
    createdAttribute: 'created_at',
    updatedAttribute: 'updated_at',
    versionAttribute: 'version',
    writeIdAttribute: 'write_id',
    userAttribute: options.userAttribute ?? 'user_id',
    userIndex: options.userIndex ?? 'user_id-index',
  }
}

/** How a `DynamoDBStore` reads and writes, apart from where (its `TableLayout`). */
export interface StoreSettings {
  consistentRead: boolean
  /** Milliseconds one operation may take. */
  timeout: number
  /** Values whose JSON has at least this many characters are tried gzipped; Infinity: never. */
  compressFrom: number
}

/**
 * The store's own options, validated, with the defaults applied.
 *
 * @example
 * resolveStoreSettings({ compress: true }) // { consistentRead: true, timeout: 5000, compressFrom: 1024 }
 */
export function resolveStoreSettings(
  options: Pick<DynamoDBStoreOptions, 'consistentRead' | 'timeout' | 'compress'>,
): StoreSettings {
  const { timeout } = options
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
    throw new Error(`DynamoDBStore option "timeout" must be a positive whole number of milliseconds.`)
  }
  return {
    consistentRead: options.consistentRead ?? true,
    timeout: timeout ?? 5000,
    compressFrom: compressionThreshold(options.compress),
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
