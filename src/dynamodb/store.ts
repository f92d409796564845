// src/dynamodb/ is everything that speaks to DynamoDB: this file's DynamoDBStore (the `Store` on
// the request path, its I/O only), the pure item codec (item.ts) and the expressions and
// conditions of its writes (expressions.ts), the user index queries (user-index.ts), the options
// and table layout every part reads (options.ts), the table tools (table.ts creates and deletes,
// table-report.ts checks), gc (gc.ts) with its pauses (retry.ts), and the mapping of SDK errors
// (sdk-errors.ts). It implements store/'s contract and may import only store/ and errors.ts,
// never core/: the session logic knows no DynamoDB, and this wing knows no session logic.
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type ConsumedCapacity,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { SessionError, SessionStoreError } from '../errors.ts'
import {
  type CallOptions,
  type DeleteOptions,
  nowInSeconds,
  type SessionRecord,
  type Store,
  type StoreMeter,
  type UpdateOptions,
  type UserSession,
  withChanges,
} from '../store/store.ts'
import { type Command, clientConfig } from './client.ts'
import {
  type Change,
  createCondition,
  deleteCondition,
  touchExpressions,
  type Update,
  updateExpressions,
} from './expressions.ts'
import { fromItem, itemKey, storedForms, toItem } from './item.ts'
import {
  type DynamoDBStoreOptions,
  resolveStoreSettings,
  resolveTableLayout,
  type StoreSettings,
  type TableLayout,
} from './options.ts'
import { toStoreError } from './sdk-errors.ts'
import { findUserSessions } from './user-index.ts'

/**
 * An update names each changed key in its expression (about 21 characters each); past this many
 * keys it writes the whole data map instead, to stay under DynamoDB's 4 KB expression limit.
 */
const MAX_KEYS_PER_UPDATE = 150
/** How often a whole-map write is tried again on top of a concurrent change before it fails. */
const MAX_REPLACE_ATTEMPTS = 3

const RETURN_CAPACITY = { ReturnConsumedCapacity: 'TOTAL' } as const

/** The capacity units an SDK output reports: one figure, or one per table (transactions, batches). */
function consumedUnits(output: unknown): number | undefined {
  const consumed = (output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] } | undefined)
    ?.ConsumedCapacity
  if (consumed === undefined) return undefined
  return [consumed].flat().reduce((sum, { CapacityUnits = 0 }) => sum + CapacityUnits, 0)
}

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
  readonly #layout: TableLayout
  readonly #settings: StoreSettings
  /** False once the engine answered that it has no transactions. */
  #transactions = true

  constructor(options: DynamoDBStoreOptions) {
    this.#layout = resolveTableLayout(options)
    this.#settings = resolveStoreSettings(options)
    this.client = options.client ?? new DynamoDBClient(clientConfig(options))
  }

  async load(key: string, { meter }: CallOptions = {}): Promise<SessionRecord | undefined> {
    return this.#load(key, this.#settings.consistentRead, meter)
  }

  /** TTL deletes expired items hours or days late, so expiry is checked on every read. */
  async #load(
    key: string,
    consistentRead: boolean,
    meter: StoreMeter | undefined,
  ): Promise<SessionRecord | undefined> {
    const { Item: item } = await this.#send(
      'GetItem',
      (client, options, capacity) =>
        client.send(
          new GetItemCommand({
            TableName: this.#layout.tableName,
            Key: itemKey(this.#layout, key),
            ConsistentRead: consistentRead,
            ...capacity,
          }),
          options,
        ),
      meter,
    )
    const record = item && (await fromItem(key, item, this.#layout))
    return record && record.expiresAt > nowInSeconds() ? record : undefined
  }

  async create(record: SessionRecord, { meter }: CallOptions = {}): Promise<boolean> {
    const item = await toItem(record, this.#layout, this.#settings.compressFrom)
    return this.#writeIfAllowed(
      'PutItem',
      (client, options, capacity) =>
        client.send(
          new PutItemCommand({
            TableName: this.#layout.tableName,
            Item: item,
            ...createCondition(this.#layout),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...capacity,
          }),
          options,
        ),
      meter,
      this.#writtenBy(record.writeId),
    )
  }

  async update(
    record: SessionRecord,
    changedKeys: readonly string[],
    { userChanged = false, ifUnchanged = false, ifValue, meter }: UpdateOptions = {},
  ): Promise<boolean> {
    if (ifValue) {
      // A compare-and-swap on one key: its value as read, in every form it may be stored in.
      const forms = ifValue.value === undefined ? [] : await storedForms(ifValue.value)
      const change = { keys: changedKeys, userChanged, checkVersion: ifUnchanged }
      return this.#update(record, { ...change, ifValue: { key: ifValue.key, forms } }, meter)
    }
    const write = (replaced: SessionRecord, keys: readonly string[] | 'all') =>
      this.#update(replaced, { keys, userChanged, checkVersion: ifUnchanged || keys === 'all' }, meter)
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
      const current = await this.#load(record.key, true, meter)
      if (!current) return false // destroyed meanwhile: it stays destroyed
      base = current
    }
    throw new SessionError(
      'SESSION_CONFLICT',
      `Other requests changed the session ${MAX_REPLACE_ATTEMPTS} times while this one wrote its ${changedKeys.length} ` +
        'changed keys; nothing was written. The client may retry.',
    )
  }

  /** One conditional UpdateItem; the item is built whole first, so an oversized one never goes out. */
  async #update(record: SessionRecord, change: Change, meter: StoreMeter | undefined): Promise<boolean> {
    const item = await toItem(record, this.#layout, this.#settings.compressFrom)
    const data = item[this.#layout.dataAttribute]?.M ?? {}
    const expressions = updateExpressions(this.#layout, record, data, change, nowInSeconds())
    return this.#updateItem(record.key, expressions, meter, this.#writtenBy(record.writeId))
  }

  async touch(
    record: Pick<SessionRecord, 'key' | 'updatedAt' | 'expiresAt'>,
    { meter }: CallOptions = {},
  ): Promise<boolean> {
    return this.#updateItem(record.key, touchExpressions(this.#layout, record, nowInSeconds()), meter)
  }

  /**
   * One conditional UpdateItem of the item under `key`. With `done`, a refused one asks for the
   * old item, for `done` to tell a lost answer of this very write from a refusal.
   */
  #updateItem(
    key: string,
    expressions: Update,
    meter: StoreMeter | undefined,
    done?: (old: Record<string, AttributeValue> | undefined) => boolean,
  ): Promise<boolean> {
    return this.#writeIfAllowed(
      'UpdateItem',
      (client, options, capacity) =>
        client.send(
          new UpdateItemCommand({
            TableName: this.#layout.tableName,
            Key: itemKey(this.#layout, key),
            ...expressions,
            ...(done && { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
            ...capacity,
          }),
          options,
        ),
      meter,
      done,
    )
  }

  async delete(key: string, { onlyIf, writeId, meter }: DeleteOptions = {}): Promise<boolean> {
    const target = { TableName: this.#layout.tableName, Key: itemKey(this.#layout, key) }
    if (!onlyIf) {
      await this.#send(
        'DeleteItem',
        (client, options, capacity) =>
          client.send(new DeleteItemCommand({ ...target, ...capacity }), options),
        meter,
      )
      return true
    }
    const now = nowInSeconds()
    const condition = deleteCondition(this.#layout, onlyIf, now)
    if (onlyIf === 'live' && writeId !== undefined && this.#transactions) {
      const deleted = await this.#deleteOnce(target, condition, writeId, meter)
      if (deleted !== 'unsupported') return deleted
    }
    // A versioned delete is refused by another request's update, or because nothing live is left
    // (its own earlier attempt, whose answer was lost, or an expiry): only the first is a refusal.
    const nothingLive = (old: Record<string, AttributeValue> | undefined) =>
      !old || Number(old[this.#layout.expiresAttribute]?.N ?? 0) <= now
    return this.#writeIfAllowed(
      'DeleteItem',
      (client, options, capacity) =>
        client.send(
          new DeleteItemCommand({
            ...target,
            ...condition,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...capacity,
          }),
          options,
        ),
      meter,
      typeof onlyIf === 'object' ? nothingLive : undefined,
    )
  }

  /**
   * A delete-if-live that a retry cannot misread: as a one-item transaction with `writeId` as its
   * client token, DynamoDB answers a repeat of a delete it already applied with success (for ten
   * minutes), where a plain DeleteItem's repeat would find nothing live and be refused, as if
   * another request had ended the session. It costs 2 write units instead of 1.
   */
  async #deleteOnce(
    target: { TableName: string; Key: Record<string, AttributeValue> },
    condition: ReturnType<typeof deleteCondition>,
    writeId: string,
    meter: StoreMeter | undefined,
  ): Promise<boolean | 'unsupported'> {
    try {
      await this.#send(
        'TransactWriteItems',
        (client, options, capacity) =>
          client.send(
            new TransactWriteItemsCommand({
              TransactItems: [{ Delete: { ...target, ...condition } }],
              ClientRequestToken: writeId,
              ...capacity,
            }),
            options,
          ),
        meter,
      )
      return true
    } catch (error) {
      const cause = error instanceof SessionStoreError ? error.cause : undefined
      const refused =
        cause instanceof TransactionCanceledException &&
        cause.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      if (refused) return false
      // An engine without transactions (dynalite, the embedded demo engine): a plain conditional
      // delete then, which reads a lost answer as a logout, as it did before transactions.
      if (cause instanceof Error && cause.name === 'UnknownOperationException') {
        this.#transactions = false
        return 'unsupported'
      }
      throw error
    }
  }

  async findByUser(userId: string, { meter }: CallOptions = {}): Promise<UserSession[]> {
    return findUserSessions(
      (operation, command) => this.#send(operation, command, meter),
      this.#layout,
      userId,
    )
  }

  /**
   * Runs a conditional write: true when written, false when DynamoDB refused its condition. Where
   * writes are judged: a refusal is still a success when `done` finds, in the item as DynamoDB
   * returned it (ALL_OLD), that this very write already landed and only its answer was lost, so
   * the SDK's retry met its own change.
   */
  async #writeIfAllowed(
    operation: string,
    command: Command<unknown>,
    meter: StoreMeter | undefined,
    done?: (old: Record<string, AttributeValue> | undefined) => boolean,
  ): Promise<boolean> {
    try {
      await this.#send(operation, command, meter)
      return true
    } catch (error) {
      const cause = error instanceof SessionStoreError ? error.cause : undefined
      if (cause instanceof ConditionalCheckFailedException) return done?.(cause.Item) ?? false
      throw error
    }
  }

  /** Finds in a refused write's old item that the write named `writeId` stored it. */
  #writtenBy(writeId: string | undefined) {
    return (old: Record<string, AttributeValue> | undefined) =>
      writeId !== undefined && old?.[this.#layout.writeIdAttribute]?.S === writeId
  }

  /**
   * Runs one SDK call within the store's timeout, its failure as a `SessionStoreError`, and tells
   * `meter` of it. A refused or failed call is metered too, with no capacity: DynamoDB's error
   * does not report what it consumed.
   */
  async #send<Output>(operation: string, command: Command<Output>, meter?: StoreMeter): Promise<Output> {
    const options = { abortSignal: AbortSignal.timeout(this.#settings.timeout) }
    try {
      const output = await command(this.client, options, meter ? RETURN_CAPACITY : {})
      meter?.called(operation, consumedUnits(output))
      return output
    } catch (error) {
      meter?.called(operation)
      throw toStoreError(operation, this.#layout.tableName, error)
    }
  }
}
