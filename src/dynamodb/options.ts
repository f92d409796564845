import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import { ConfigError } from '../errors.ts'
import {
  ALL_OPTION_NAMES,
  aBoolean,
  aName,
  aString,
  type Check,
  check,
  checkOptions,
  type OptionTable,
  objectOf,
  optionError,
  wholeNumber,
} from '../option-checks.ts'

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

const anEndpoint = check('a URL such as http://127.0.0.1:8000', (value) => {
  if (typeof value !== 'string') return false
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol)
  } catch {
    return false
  }
})

/**
 * Every option of `DynamoDBStoreOptions` -> its check, one line each. The table tools and gc
 * check these too, with their own options added.
 */
const STORE_OPTIONS = {
  tableName: aName,
  client: check('a DynamoDBClient', (value) => typeof (value as DynamoDBClient | null)?.send === 'function'),
  region: aName,
  endpoint: anEndpoint,
  credentials: check(
    'an object with accessKeyId and secretAccessKey, or a function that resolves to one',
    (value) =>
      typeof value === 'function' ||
      (typeof (value as { accessKeyId?: unknown } | null)?.accessKeyId === 'string' &&
        typeof (value as { secretAccessKey?: unknown }).secretAccessKey === 'string'),
  ),
  consistentRead: aBoolean,
  keyAttribute: aName,
  keyPrefix: aString,
  sortKey: objectOf({ attribute: aName, value: aString }),
  dataAttribute: aName,
  expiresAttribute: aName,
  compress: check(
    'true, false, or a whole number of bytes (1 or more)',
    (value) => typeof value === 'boolean' || (Number.isSafeInteger(value) && (value as number) >= 1),
  ),
  userAttribute: aName,
  userIndex: aName,
  timeout: wholeNumber(1, undefined, 'milliseconds'),
} satisfies Record<keyof DynamoDBStoreOptions, Check>

/**
 * The table layout of a store's options, with the defaults applied, after checking every option
 * (the store's and `extra`, the caller's own) at once: a `ConfigError` names the first mistake.
 * `owner` names the function whose options these are, in the error message.
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
  extra: OptionTable = {},
): TableLayout {
  checkOptions(owner, options, { ...STORE_OPTIONS, ...extra }, ALL_OPTION_NAMES)
  if (options.tableName === undefined) {
    throw new ConfigError(
      `${owner} requires the "tableName" option: the name of the sessions table.`,
      'tableName',
      'code',
    )
  }
  const { sortKey } = options
  if (sortKey && (sortKey.attribute === undefined || sortKey.value === undefined)) {
    throw optionError(
      { owner, path: 'sortKey' },
      'needs both an "attribute" name and a string "value" (the value every session item gets).',
    )
  }
  return {
    tableName: options.tableName,
    keyAttribute: options.keyAttribute ?? 'session_id',
    keyPrefix: options.keyPrefix ?? '',
    sortKey,
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
 * The store's own options with the defaults applied; `resolveTableLayout` has checked them.
 *
 * @example
 * resolveStoreSettings({ compress: true }) // { consistentRead: true, timeout: 5000, compressFrom: 1024 }
 */
export function resolveStoreSettings(
  options: Pick<DynamoDBStoreOptions, 'consistentRead' | 'timeout' | 'compress'>,
): StoreSettings {
  const { compress } = options
  return {
    consistentRead: options.consistentRead ?? true,
    timeout: options.timeout ?? 5000,
    // Values whose JSON has fewer characters than this are never tried gzipped.
    compressFrom:
      compress === undefined || compress === false
        ? Number.POSITIVE_INFINITY
        : compress === true
          ? 1024
          : compress,
  }
}
