// The sessions a connect-dynamodb table holds, for moving them into this library's table without
// logging anyone out (see docs/express.md). Read-and-remove only: nothing here writes new sessions.
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb'
import { SessionStoreError } from '../errors.ts'
import { nowInSeconds } from '../store/store.ts'
import { clientConfig } from './client.ts'
import type { DynamoDBStoreOptions } from './options.ts'

export interface ConnectDynamoDBTableOptions
  extends Pick<DynamoDBStoreOptions, 'client' | 'region' | 'endpoint' | 'credentials' | 'timeout'> {
  /** connect-dynamodb's `table`. @default 'sessions' */
  tableName?: string
  /** connect-dynamodb's `prefix`, put before the session id in the key. @default 'sess:' */
  prefix?: string
  /** connect-dynamodb's `hashKey`. @default 'id' */
  hashKey?: string
  /** The epoch-seconds expiry attribute connect-dynamodb writes. @default 'expires' */
  expiresAttribute?: string
}

/** One live session of the old table: express-session's data (with its cookie) and its expiry. */
export interface LegacySession {
  session: Record<string, unknown>
  /** Epoch seconds; undefined when the item had no expiry. */
  expiresAt: number | undefined
}

/**
 * A table written by `connect-dynamodb`, read one session at a time: for the `legacy` option of
 * `expressSessionStore`, which moves each old session into this library's table the first time
 * its cookie comes back. Items past their `expires` are ignored, as connect-dynamodb ignores them.
 *
 * @example
 * const legacy = new ConnectDynamoDBTable({ tableName: 'sessions', client })
 */
export class ConnectDynamoDBTable {
  readonly client: DynamoDBClient
  readonly tableName: string
  readonly #prefix: string
  readonly #hashKey: string
  readonly #expiresAttribute: string
  readonly #timeout: number

  constructor(options: ConnectDynamoDBTableOptions = {}) {
    for (const name of ['tableName', 'hashKey', 'expiresAttribute'] as const) {
      const value = options[name]
      if (value !== undefined && (typeof value !== 'string' || value === '')) {
        throw new Error(`ConnectDynamoDBTable option "${name}" must be a non-empty string.`)
      }
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new Error(
        'ConnectDynamoDBTable option "prefix" must be a string (connect-dynamodb\'s is "sess:").',
      )
    }
    this.client = options.client ?? new DynamoDBClient(clientConfig(options))
    this.tableName = options.tableName ?? 'sessions'
    this.#prefix = options.prefix ?? 'sess:'
    this.#hashKey = options.hashKey ?? 'id'
    this.#expiresAttribute = options.expiresAttribute ?? 'expires'
    this.#timeout = options.timeout ?? 5000
  }

  /** The live session stored under express-session's id `sid`, read once (strongly consistent). */
  async find(sid: string): Promise<LegacySession | undefined> {
    const { Item: item } = await this.#send('GetItem', (signal) =>
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: this.#key(sid), ConsistentRead: true }),
        { abortSignal: signal },
      ),
    )
    const json = item?.sess?.S
    if (!item || json === undefined) return undefined
    const expires = item[this.#expiresAttribute]?.N
    const expiresAt = expires === undefined ? undefined : Number(expires)
    // connect-dynamodb's own rule: a session is over once now reaches its expiry.
    if (expiresAt !== undefined && !(nowInSeconds() < expiresAt)) return undefined
    try {
      const session: unknown = JSON.parse(json)
      if (typeof session !== 'object' || session === null || Array.isArray(session)) return undefined
      return { session: session as Record<string, unknown>, expiresAt }
    } catch {
      return undefined // not connect-dynamodb's JSON: no session, as connect-dynamodb would say
    }
  }

  /**
   * Removes the old item; true when this call removed it, false when it was gone already (another
   * request claimed it first). Only the claiming request may write the session anew, so no two
   * requests move one session, and a slower one cannot bring back a session destroyed meanwhile.
   */
  async claim(sid: string): Promise<boolean> {
    try {
      await this.#send('DeleteItem', (signal) =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: this.#key(sid),
            ConditionExpression: 'attribute_exists(#key)',
            ExpressionAttributeNames: { '#key': this.#hashKey },
          }),
          { abortSignal: signal },
        ),
      )
      return true
    } catch (error) {
      if (error instanceof SessionStoreError && error.cause instanceof ConditionalCheckFailedException)
        return false
      throw error
    }
  }

  /** Puts a claimed session back as connect-dynamodb wrote it, when writing it anew failed. */
  async restore(sid: string, { session, expiresAt }: LegacySession): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...this.#key(sid),
      type: { S: 'connect-session' },
      sess: { S: JSON.stringify(session) },
      ...(expiresAt === undefined ? {} : { [this.#expiresAttribute]: { N: String(expiresAt) } }),
    }
    await this.#send('PutItem', (signal) =>
      this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }), {
        abortSignal: signal,
      }),
    )
  }

  #key(sid: string): Record<string, AttributeValue> {
    return { [this.#hashKey]: { S: this.#prefix + sid } }
  }

  async #send<Output>(operation: string, call: (signal: AbortSignal) => Promise<Output>): Promise<Output> {
    try {
      return await call(AbortSignal.timeout(this.#timeout))
    } catch (error) {
      throw new SessionStoreError(`${operation} on connect-dynamodb table "${this.tableName}"`, error)
    }
  }
}
