import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type ProvisionedThroughput,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb'
import { ConfigError, TableError } from '../errors.ts'
import { type Check, check, wholeNumber } from '../option-checks.ts'
import { withClient } from './client.ts'
import { type DynamoDBStoreOptions, resolveTableLayout, type TableLayout } from './options.ts'
import { send } from './sdk-errors.ts'
import {
  describeTable,
  describeTimeToLive,
  inspectTable,
  keyProblems,
  type TableReport,
  ttlProblems,
  userIndexOf,
  userIndexProblems,
} from './table-report.ts'

export type { TableReport } from './table-report.ts'

/**
 * The store's options (so one object configures the store, the table and gc), plus how to
 * create the table. `consistentRead` and `timeout` are the store's and play no part here.
 */
export interface TableOptions extends DynamoDBStoreOptions {
  /**
   * Provisioned read capacity units; give `writeCapacity` too. Without both the table is
   * on-demand, which suits the spiky traffic of sessions and needs no capacity planning.
   * @default on-demand billing (PAY_PER_REQUEST)
   */
  readCapacity?: number
  /** Provisioned write capacity units; give `readCapacity` too. @default on-demand billing */
  writeCapacity?: number
  /**
   * Seconds to wait for the table, its user index and its TTL to be ready (createTable), or for
   * the table to be gone (deleteTable).
   * @default 300
   */
  maxWaitTime?: number
}

/** The table tools' own options -> their checks, one line each; the store's are checked with them. */
const TABLE_OPTIONS = {
  readCapacity: wholeNumber(1, undefined, 'capacity units'),
  writeCapacity: wholeNumber(1, undefined, 'capacity units'),
  maxWaitTime: check(
    'a number of seconds above 0',
    (value) => typeof value === 'number' && value > 0 && Number.isFinite(value),
  ),
} satisfies Record<Exclude<keyof TableOptions, keyof DynamoDBStoreOptions>, Check>

/** How often to ask while waiting: at once on DynamoDB Local, at most every 10 s on AWS. */
const POLL = { minDelay: 1, maxDelay: 10 }
const DEFAULT_MAX_WAIT_TIME = 300

/**
 * Creates the sessions table for these store options: the partition key (and the sort key, if
 * any) as strings; on-demand billing unless `readCapacity` and `writeCapacity` are given; the
 * user index for `listUserSessions()`, projecting only the times it reads; TTL on the expiry
 * attribute. Waits until all of it is ready. Idempotent: an existing table with the right keys is
 * fine, and gets the user index and TTL if it lacks them; one with other keys is a `TableError`
 * with code `TABLE_MISMATCH`. For deployments, not for the request path: the store never
 * describes or creates tables.
 *
 * @example
 * await createTable({ tableName: 'sessions', region: 'eu-west-1' })
 * await createTable({ tableName: 'app', keyPrefix: 'session#', sortKey: { attribute: 'sk', value: 'session' } })
 */
export async function createTable(options: TableOptions): Promise<TableReport & { created: boolean }> {
  const layout = resolveTableLayout(options, 'createTable', TABLE_OPTIONS)
  const throughput = throughputOf(options)
  const deadline = Date.now() + waitTimeOf(options) * 1000
  return withClient(options, async (client) => {
    const created = await send('CreateTable', layout, async () => {
      try {
        await client.send(new CreateTableCommand(createTableInput(layout, throughput)))
        return true
      } catch (error) {
        if (error instanceof Error && error.name === 'ResourceInUseException') return false
        throw error
      }
    })
    await waitForTable(client, layout, deadline)
    if (!created) await adoptTable(client, layout, await describeTable(client, layout), deadline)
    await waitForUserIndex(client, layout, deadline)
    await enableTimeToLive(client, layout, deadline)
    return { created, ...(await inspectTable(client, layout)) }
  })
}

/**
 * Deletes the table and waits until it is gone; every session in it is lost. A table that does
 * not exist is no error: `deleted` is then false.
 *
 * @example
 * const { deleted } = await deleteTable({ tableName: 'sessions-test' })
 */
export async function deleteTable(
  options: Pick<TableOptions, 'tableName' | 'client' | 'region' | 'endpoint' | 'credentials' | 'maxWaitTime'>,
): Promise<{ tableName: string; deleted: boolean }> {
  const layout = resolveTableLayout(options, 'deleteTable', TABLE_OPTIONS)
  const deadline = Date.now() + waitTimeOf(options) * 1000
  return withClient(options, async (client) => {
    const remove = () => client.send(new DeleteTableCommand({ TableName: layout.tableName }))
    const deleted = await send('DeleteTable', layout, async () => {
      try {
        await remove()
      } catch (error) {
        if (!(error instanceof Error)) throw error
        if (error.name === 'ResourceNotFoundException') return false
        if (error.name !== 'ResourceInUseException') throw error
        // Being created or updated: DynamoDB takes the delete once the table is ACTIVE.
        await waitForTable(client, layout, deadline)
        await remove()
      }
      return true
    })
    if (deleted) await waitForNoTable(client, layout, deadline)
    return { tableName: layout.tableName, deleted }
  })
}

/**
 * Reports the table's keys, billing, TTL and user index, and everything that does not suit these
 * store options (a missing table, other keys, TTL off or on another attribute), changing
 * nothing. Needs dynamodb:DescribeTable and dynamodb:DescribeTimeToLive.
 *
 * @example
 * const report = await checkTable({ tableName: 'sessions' })
 * if (report.problems.length > 0) console.error(report.problems.join('\n'))
 */
export async function checkTable(options: TableOptions): Promise<TableReport> {
  const layout = resolveTableLayout(options, 'checkTable', TABLE_OPTIONS)
  return withClient(options, (client) => inspectTable(client, layout))
}

function createTableInput(
  layout: TableLayout,
  throughput: ProvisionedThroughput | undefined,
): CreateTableCommandInput {
  const keys: KeySchemaElement[] = [{ AttributeName: layout.keyAttribute, KeyType: 'HASH' }]
  if (layout.sortKey) keys.push({ AttributeName: layout.sortKey.attribute, KeyType: 'RANGE' })
  return {
    TableName: layout.tableName,
    KeySchema: keys,
    AttributeDefinitions: [...keys.map(({ AttributeName }) => AttributeName), layout.userAttribute].map(
      (AttributeName) => ({ AttributeName, AttributeType: 'S' }),
    ),
    GlobalSecondaryIndexes: [userIndex(layout, throughput)],
    ...(throughput
      ? { BillingMode: 'PROVISIONED', ProvisionedThroughput: throughput }
      : { BillingMode: 'PAY_PER_REQUEST' }),
  }
}

/**
 * The user index holds only sessions bound to a user (the attribute is absent otherwise, so the
 * index costs nothing for the others) and only the times `findByUser` reads, not the data.
 */
function userIndex(layout: TableLayout, throughput: ProvisionedThroughput | undefined): GlobalSecondaryIndex {
  return {
    IndexName: layout.userIndex,
    KeySchema: [{ AttributeName: layout.userAttribute, KeyType: 'HASH' }],
    // Keys only: a session's writes then never write the index as well (it would double their
    // cost); findByUser reads the times from the table.
    Projection: { ProjectionType: 'KEYS_ONLY' },
    ...(throughput ? { ProvisionedThroughput: throughput } : {}),
  }
}

/** An existing table: its keys must be the store's; a missing user index is added. */
async function adoptTable(
  client: DynamoDBClient,
  layout: TableLayout,
  table: TableDescription,
  deadline: number,
): Promise<void> {
  const existing = userIndexOf(table, layout)
  const ttl = await describeTimeToLive(client, layout)
  // Everything that cannot be fixed here is refused before anything is changed.
  const problems = [
    ...keyProblems(table, layout),
    ...(existing ? userIndexProblems(table, existing, layout) : []),
    ...(ttl.status === 'DISABLED' ? [] : ttlProblems(layout, ttl.status, ttl.attribute)),
  ]
  if (problems.length > 0) {
    throw new TableError(
      'TABLE_MISMATCH',
      `Table "${layout.tableName}" does not suit the store: ${problems.join(' ')}`,
    )
  }
  if (existing) return
  const provisioned = table.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST'
  const throughput = provisioned
    ? {
        ReadCapacityUnits: table.ProvisionedThroughput?.ReadCapacityUnits ?? 1,
        WriteCapacityUnits: table.ProvisionedThroughput?.WriteCapacityUnits ?? 1,
      }
    : undefined
  await send('UpdateTable', layout, () =>
    client.send(
      new UpdateTableCommand({
        TableName: layout.tableName,
        AttributeDefinitions: [{ AttributeName: layout.userAttribute, AttributeType: 'S' }],
        GlobalSecondaryIndexUpdates: [{ Create: userIndex(layout, throughput) }],
      }),
    ),
  )
  await waitForTable(client, layout, deadline)
}

/** Provisioned capacity when both units are given (checked by TABLE_OPTIONS), on-demand when neither. */
function throughputOf({ readCapacity, writeCapacity }: TableOptions): ProvisionedThroughput | undefined {
  if (readCapacity === undefined && writeCapacity === undefined) return undefined
  if (readCapacity === undefined || writeCapacity === undefined) {
    const name = readCapacity === undefined ? 'readCapacity' : 'writeCapacity'
    throw new ConfigError(
      `createTable option "${name}" is missing: give both readCapacity and writeCapacity for a provisioned table, or neither for on-demand billing.`,
      name,
      'code',
    )
  }
  return { ReadCapacityUnits: readCapacity, WriteCapacityUnits: writeCapacity }
}

function waitTimeOf({ maxWaitTime }: Pick<TableOptions, 'maxWaitTime'>): number {
  return maxWaitTime ?? DEFAULT_MAX_WAIT_TIME
}

function secondsLeft(deadline: number): number {
  // The waiter refuses a wait no longer than its first delay.
  return Math.max(POLL.minDelay + 1, Math.ceil((deadline - Date.now()) / 1000))
}

/**
 * Waits until the table is ACTIVE. One DescribeTable first, so that an error the SDK's waiter
 * would retry until it times out (access denied, bad credentials) is reported at once.
 */
async function waitForTable(client: DynamoDBClient, layout: TableLayout, deadline: number): Promise<void> {
  try {
    if ((await describeTable(client, layout)).TableStatus === 'ACTIVE') return
  } catch (error) {
    if (!(error instanceof TableError && error.code === 'TABLE_NOT_FOUND')) throw error
  }
  const maxWaitTime = secondsLeft(deadline)
  await send('DescribeTable', layout, () =>
    waitUntilTableExists({ client, maxWaitTime, ...POLL }, { TableName: layout.tableName }).catch(
      (error: unknown) => {
        throw timeoutOr(error, `Table "${layout.tableName}" was not ACTIVE after ${maxWaitTime} s.`)
      },
    ),
  )
}

/** Waits until the table is gone; as above, one DescribeTable first reports errors at once. */
async function waitForNoTable(client: DynamoDBClient, layout: TableLayout, deadline: number): Promise<void> {
  try {
    await describeTable(client, layout)
  } catch (error) {
    if (error instanceof TableError && error.code === 'TABLE_NOT_FOUND') return
    throw error
  }
  const maxWaitTime = secondsLeft(deadline)
  await send('DescribeTable', layout, () =>
    waitUntilTableNotExists({ client, maxWaitTime, ...POLL }, { TableName: layout.tableName }).catch(
      (error: unknown) => {
        throw timeoutOr(error, `Table "${layout.tableName}" was still there after ${maxWaitTime} s.`)
      },
    ),
  )
}

/** A new index is filled from the table before it is ACTIVE; on a large table that takes a while. */
async function waitForUserIndex(
  client: DynamoDBClient,
  layout: TableLayout,
  deadline: number,
): Promise<void> {
  await poll(layout, deadline, async () => {
    const status = userIndexOf(await describeTable(client, layout), layout)?.IndexStatus
    return status === 'ACTIVE' ? undefined : `its index "${layout.userIndex}" was still ${status}`
  })
}

/** Turns TTL on for the expiry attribute, unless it is on already, and waits until it is enabled. */
async function enableTimeToLive(
  client: DynamoDBClient,
  layout: TableLayout,
  deadline: number,
): Promise<void> {
  const describe = () => describeTimeToLive(client, layout)
  if ((await describe()).status === 'DISABLED') {
    await send('UpdateTimeToLive', layout, () =>
      client
        .send(
          new UpdateTimeToLiveCommand({
            TableName: layout.tableName,
            TimeToLiveSpecification: { Enabled: true, AttributeName: layout.expiresAttribute },
          }),
        )
        .catch((error: unknown) => {
          // Another process turned it on meanwhile: its attribute is checked below.
          if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error
        }),
    )
  }
  await poll(layout, deadline, async () => {
    const ttl = await describe()
    const problem = ttl.status === 'DISABLED' ? undefined : ttlProblems(layout, ttl.status, ttl.attribute)[0]
    if (problem) throw new TableError('TABLE_MISMATCH', `Table "${layout.tableName}": ${problem}`)
    return ttl.status === 'ENABLED' ? undefined : `its TTL was still ${ttl.status}`
  })
}

/**
 * Asks `check` until it returns undefined (done), pausing 1 s, then twice as long each time up
 * to 10 s, the last pause cut short to end at the deadline; past it, a `TableError` with code
 * `TABLE_TIMEOUT` says what was still pending.
 */
async function poll(
  layout: TableLayout,
  deadline: number,
  check: () => Promise<string | undefined>,
): Promise<void> {
  let delay = POLL.minDelay * 1000
  for (;;) {
    const pending = await check()
    if (pending === undefined) return
    const left = deadline - Date.now()
    if (left <= 0) {
      throw new TableError(
        'TABLE_TIMEOUT',
        `Table "${layout.tableName}": the wait ended while ${pending}: see \`npx dynamodb-session check-table\` later, or raise maxWaitTime.`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)))
    delay = Math.min(delay * 2, POLL.maxDelay * 1000)
  }
}

/** The SDK's waiters throw a plain Error on timeout; this names what was waited for. */
function timeoutOr(error: unknown, message: string): unknown {
  return error instanceof Error && /"state":\s*"TIMEOUT"|TimeoutError/.test(`${error.name} ${error.message}`)
    ? new TableError('TABLE_TIMEOUT', message, { cause: error })
    : error
}
