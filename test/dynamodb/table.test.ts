// createTable, checkTable and deleteTable on AWS's DynamoDB Local.
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  DescribeTimeToLiveCommand,
  type DescribeTimeToLiveCommandOutput,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import { getSession } from '../../src/core/manager.ts'
import { DynamoDBStore } from '../../src/dynamodb/store.ts'
import { checkTable, createTable, deleteTable } from '../../src/dynamodb/table.ts'
import { ConfigError, TableError } from '../../src/errors.ts'
import { nowInSeconds } from '../../src/store/store.ts'
import { countCalls, createSessionTable, localClient, uniqueTableName } from '../support/dynamodb.ts'
import { app } from '../support/harness.ts'

const client = localClient()
afterAll(() => client.destroy())

async function ttlOf(tableName: string) {
  const { TimeToLiveDescription: ttl } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  )
  return { status: ttl?.TimeToLiveStatus, attribute: ttl?.AttributeName }
}

/**
 * DynamoDB Local has a table, its index and its TTL ready at once; AWS takes seconds to minutes.
 * This makes `target` answer for `tableName` as AWS does meanwhile: the first `table`
 * DescribeTables say the table is CREATING, the first `index` say the user index is CREATING, the
 * first `ttl` DescribeTimeToLives that would say ENABLED say ENABLING, and the first `deleting`
 * DescribeTables that would find no table find it DELETING. `Infinity` stalls for ever. Added at
 * the initialize step, so the SDK's waiters see the same answers as createTable's own polls.
 */
function slowLikeAWS(
  target: DynamoDBClient,
  tableName: string,
  { table = 0, index = 0, ttl = 0, deleting = 0 },
) {
  const seen = {
    /** When each DescribeTable and DescribeTimeToLive of the table was sent, in ms since `start`. */
    describeTable: [] as number[],
    describeTimeToLive: [] as number[],
    /** How many answers were rewritten, of each kind. */
    stalled: { table: 0, index: 0, ttl: 0, deleting: 0 },
  }
  const start = performance.now()
  target.middlewareStack.add(
    (next, context) => async (args) => {
      if ((args.input as { TableName?: string }).TableName !== tableName) return next(args)
      if (context.commandName === 'DescribeTimeToLiveCommand') {
        seen.describeTimeToLive.push(performance.now() - start)
        const result = await next(args)
        const output = result.output as DescribeTimeToLiveCommandOutput
        const real = output.TimeToLiveDescription
        if (real?.TimeToLiveStatus !== 'ENABLED' || seen.stalled.ttl >= ttl) return result
        seen.stalled.ttl += 1
        return {
          ...result,
          output: { ...output, TimeToLiveDescription: { ...real, TimeToLiveStatus: 'ENABLING' } },
        }
      }
      if (context.commandName !== 'DescribeTableCommand') return next(args)
      const call = seen.describeTable.push(performance.now() - start)
      let result: Awaited<ReturnType<typeof next>>
      try {
        result = await next(args)
      } catch (error) {
        if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error
        if (seen.stalled.deleting >= deleting) throw error
        seen.stalled.deleting += 1
        const output: DescribeTableCommandOutput = {
          $metadata: {},
          Table: { TableName: tableName, TableStatus: 'DELETING' },
        }
        return { response: undefined, output }
      }
      const output = result.output as DescribeTableCommandOutput
      const real = output.Table
      if (!real) return result
      const stallTable = call <= table
      const stallIndex = call <= index
      if (stallTable) seen.stalled.table += 1
      if (stallIndex) seen.stalled.index += 1
      return {
        ...result,
        output: {
          ...output,
          Table: {
            ...real,
            ...(stallTable ? { TableStatus: 'CREATING' } : {}),
            GlobalSecondaryIndexes: real.GlobalSecondaryIndexes?.map((gsi) =>
              stallIndex && gsi.IndexName === 'user_id-index' ? { ...gsi, IndexStatus: 'CREATING' } : gsi,
            ),
          },
        },
      }
    },
    { step: 'initialize', name: `slowLikeAWS${Math.random()}` },
  )
  return seen
}

/** How `work` failed, and how many ms it took to fail. */
async function failureOf(work: Promise<unknown>): Promise<{ error: unknown; elapsed: number }> {
  const started = performance.now()
  const error = await work.then(
    () => undefined,
    (error: unknown) => error,
  )
  return { error, elapsed: performance.now() - started }
}

/** Gaps between successive times, in ms. */
function gaps(times: number[]): number[] {
  return times.slice(1).map((time, i) => time - (times[i] ?? 0))
}

describe('createTable', () => {
  it('makes an on-demand table with TTL on expire_at and the user index, ready to use', async () => {
    const tableName = uniqueTableName('create')
    const report = await createTable({ client, tableName })
    expect(report).toMatchObject({
      created: true,
      tableName,
      exists: true,
      status: 'ACTIVE',
      partitionKey: { name: 'session_id', type: 'S' },
      sortKey: undefined,
      billingMode: 'PAY_PER_REQUEST',
      ttl: { status: 'ENABLED', attribute: 'expire_at' },
      userIndex: { name: 'user_id-index', status: 'ACTIVE', attribute: 'user_id' },
      problems: [],
      warnings: [],
    })
    expect(await ttlOf(tableName)).toEqual({ status: 'ENABLED', attribute: 'expire_at' })
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    // The index holds keys only, so a session's writes never write the index as well.
    expect(table?.GlobalSecondaryIndexes?.[0]?.Projection).toEqual({ ProjectionType: 'KEYS_ONLY' })

    // The middleware then uses it without ever describing or creating a table.
    const counter = countCalls(client)
    const store = new DynamoDBStore({ client, tableName })
    const site = app(store)
    const first = await site.send(async (request) => {
      await getSession(request).set('count', 1)
      return new Response('ok')
    })
    const second = await site.send(
      async (request) => new Response(String(await getSession(request).get('count'))),
      first.cookie?.value,
    )
    expect(second.body).toBe('1')
    expect(counter.calls).toEqual(['PutItemCommand', 'GetItemCommand'])
  })

  it('is idempotent: a second call finds the table right and changes nothing', async () => {
    const tableName = uniqueTableName('again')
    await createTable({ client, tableName })
    const counter = countCalls(client)
    const report = await createTable({ client, tableName })
    expect(report).toMatchObject({ created: false, problems: [], ttl: { status: 'ENABLED' } })
    expect(counter.calls).not.toContain('UpdateTimeToLiveCommand')
    expect(counter.calls).not.toContain('UpdateTableCommand')
  })

  it('makes a provisioned single-table design with the store’s own attribute names', async () => {
    const tableName = uniqueTableName('single')
    const options = {
      client,
      tableName,
      keyAttribute: 'pk',
      sortKey: { attribute: 'sk', value: 'session' },
      expiresAttribute: 'ttl',
      userAttribute: 'owner',
      userIndex: 'by-owner',
      readCapacity: 3,
      writeCapacity: 2,
    }
    const report = await createTable(options)
    expect(report).toMatchObject({
      created: true,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
      billingMode: 'PROVISIONED',
      readCapacity: 3,
      writeCapacity: 2,
      ttl: { status: 'ENABLED', attribute: 'ttl' },
      userIndex: { name: 'by-owner', attribute: 'owner' },
      problems: [],
    })
    expect((await checkTable(options)).problems).toEqual([])

    const store = new DynamoDBStore(options)
    const now = nowInSeconds()
    const record = {
      key: 'k',
      data: { a: 1 },
      createdAt: now,
      updatedAt: now,
      expiresAt: now + 60,
      userId: 'ada',
    }
    expect(await store.create(record)).toBe(true)
    expect((await store.load('k'))?.data).toEqual({ a: 1 })
  })

  it('gives an existing table with the right keys its TTL and user index', async () => {
    const tableName = await createSessionTable(client, uniqueTableName('adopt'))
    expect((await checkTable({ client, tableName })).problems).toEqual([
      expect.stringMatching(/^TTL is off, so expired sessions stay in the table until gc deletes them/),
    ])
    const report = await createTable({ client, tableName })
    expect(report).toMatchObject({
      created: false,
      ttl: { status: 'ENABLED', attribute: 'expire_at' },
      userIndex: { name: 'user_id-index', status: 'ACTIVE' },
      problems: [],
      warnings: [],
    })
  })

  it('refuses a table with other keys, naming them, and leaves it alone', async () => {
    const tableName = await createSessionTable(client, uniqueTableName('other'), { keyAttribute: 'id' })
    const failure = createTable({ client, tableName })
    await expect(failure).rejects.toThrow(TableError)
    await expect(failure).rejects.toMatchObject({ code: 'TABLE_MISMATCH' })
    await expect(failure).rejects.toThrow(/partition key is "id", not "session_id": set keyAttribute to "id"/)
    expect(await ttlOf(tableName)).toEqual({ status: 'DISABLED', attribute: undefined })
  })

  it('refuses a table whose TTL is on another attribute', async () => {
    const tableName = await createSessionTable(client, uniqueTableName('ttl'))
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: 'expires' },
      }),
    )
    const counter = countCalls(client)
    await expect(createTable({ client, tableName })).rejects.toThrow(
      /TTL is on "expires", but sessions expire by "expire_at"/,
    )
    expect(counter.calls).not.toContain('UpdateTableCommand') // no index added to a table refused
  })

  it('refuses half a provisioned capacity before any call', async () => {
    const tableName = uniqueTableName('half')
    const failure = createTable({ client, tableName, readCapacity: 5 })
    await expect(failure).rejects.toThrow(ConfigError)
    await expect(failure).rejects.toThrow(/"writeCapacity" is missing: give both/)
    expect((await checkTable({ client, tableName })).exists).toBe(false)
  })

  it('waits, asking less and less often, until the table, its user index and its TTL are ready', async () => {
    const own = localClient()
    try {
      const tableName = uniqueTableName('slow')
      const seen = slowLikeAWS(own, tableName, { table: 2, index: 4, ttl: 2 })
      const report = await createTable({ client: own, tableName })
      // Every in-between answer went to createTable's waiting, none to its final report.
      expect(seen.stalled).toEqual({ table: 2, index: 4, ttl: 2, deleting: 0 })
      expect(report).toMatchObject({
        created: true,
        status: 'ACTIVE',
        userIndex: { name: 'user_id-index', status: 'ACTIVE' },
        ttl: { status: 'ENABLED', attribute: 'expire_at' },
        problems: [],
      })
      // Four answers with the index CREATING, one with it ACTIVE, then the report's.
      expect(seen.describeTable.length).toBeGreaterThanOrEqual(6)
      // TTL: DISABLED (so it is turned on), ENABLING, ENABLING, ENABLED, then the report's.
      expect(seen.describeTimeToLive).toHaveLength(5)
      // Backoff: 1 s after the first ENABLING, 2 s after the second (timers may fire a little early).
      const [, afterFirst = 0, afterSecond = 0] = gaps(seen.describeTimeToLive)
      expect(afterFirst).toBeGreaterThanOrEqual(950)
      expect(afterSecond).toBeGreaterThanOrEqual(1950)
    } finally {
      own.destroy()
    }
  })

  it.each([
    {
      pending: 'a table that stays CREATING',
      stalls: { table: Number.POSITIVE_INFINITY, index: Number.POSITIVE_INFINITY },
      message: (tableName: string) => `Table "${tableName}" was not ACTIVE after`,
      // The SDK's own waiter stops once its next poll would pass the deadline.
      waitsAtLeast: 1000,
    },
    {
      pending: 'a user index that stays CREATING',
      stalls: { index: Number.POSITIVE_INFINITY },
      message: (tableName: string) =>
        `Table "${tableName}": the wait ended while its index "user_id-index" was still CREATING`,
      waitsAtLeast: 1900, // the whole maxWaitTime, its last pause cut short
    },
    {
      pending: 'TTL that stays ENABLING',
      stalls: { ttl: Number.POSITIVE_INFINITY },
      message: (tableName: string) => `Table "${tableName}": the wait ended while its TTL was still ENABLING`,
      waitsAtLeast: 1900,
    },
  ])(
    'gives up on $pending after maxWaitTime with TABLE_TIMEOUT, naming it',
    async ({ stalls, message, waitsAtLeast }) => {
      const own = localClient()
      try {
        const tableName = uniqueTableName('stuck')
        const seen = slowLikeAWS(own, tableName, stalls)
        const { error, elapsed } = await failureOf(createTable({ client: own, tableName, maxWaitTime: 2 }))
        expect(error).toBeInstanceOf(TableError)
        expect(error).toMatchObject({ code: 'TABLE_TIMEOUT' })
        expect((error as TableError).message).toContain(message(tableName))
        expect(elapsed).toBeLessThan(2000 + 3000)
        expect(elapsed).toBeGreaterThanOrEqual(waitsAtLeast)
        // It asked again at least once before giving up.
        expect(seen.stalled.table + seen.stalled.index + seen.stalled.ttl).toBeGreaterThanOrEqual(2)
      } finally {
        own.destroy()
      }
    },
  )
})

describe('checkTable', () => {
  it('reports everything wrong at once, and changes nothing', async () => {
    const tableName = uniqueTableName('wrong')
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'session_id', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'session_id', AttributeType: 'N' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
      }),
    )
    const counter = countCalls(client)
    const report = await checkTable({ client, tableName })
    expect(report).toMatchObject({
      exists: true,
      partitionKey: { name: 'session_id', type: 'N' },
      sortKey: { name: 'sk', type: 'S' },
      ttl: { status: 'DISABLED', attribute: undefined },
      userIndex: undefined,
    })
    expect(report.problems).toEqual([
      expect.stringMatching(/partition key "session_id" is of type N, but session keys are strings/),
      expect.stringMatching(/has the sort key "sk": set sortKey/),
      expect.stringMatching(/^TTL is off/),
    ])
    expect(report.warnings).toEqual([expect.stringMatching(/no index "user_id-index"/)])
    expect(counter.calls).toEqual(['DescribeTableCommand', 'DescribeTimeToLiveCommand'])
  })

  it('reports a missing table as a problem, not an exception', async () => {
    const tableName = uniqueTableName('absent')
    expect(await checkTable({ client, tableName })).toMatchObject({
      exists: false,
      problems: [
        `Table "${tableName}" does not exist: create it with \`npx dynamodb-session create-table\` (or createTable()).`,
      ],
    })
  })
})

describe('deleteTable', () => {
  it('deletes the table and waits until it is gone; a missing table is no error', async () => {
    const tableName = uniqueTableName('delete')
    await createTable({ client, tableName })
    expect(await deleteTable({ client, tableName })).toEqual({ tableName, deleted: true })
    expect((await checkTable({ client, tableName })).exists).toBe(false)
    expect(await deleteTable({ client, tableName })).toEqual({ tableName, deleted: false })
  })

  it('waits while the table is still DELETING, until it is gone', async () => {
    const own = localClient()
    try {
      const tableName = uniqueTableName('deleting')
      await createTable({ client, tableName })
      const seen = slowLikeAWS(own, tableName, { deleting: 3 })
      expect(await deleteTable({ client: own, tableName })).toEqual({ tableName, deleted: true })
      expect(seen.stalled.deleting).toBe(3)
      // Three DELETING answers, then the one that found no table.
      expect(seen.describeTable).toHaveLength(4)
      expect(gaps(seen.describeTable).reduce((sum, gap) => sum + gap, 0)).toBeGreaterThanOrEqual(1950)
    } finally {
      own.destroy()
    }
  })

  it('gives up on a table that stays DELETING after maxWaitTime with TABLE_TIMEOUT', async () => {
    const own = localClient()
    try {
      const tableName = uniqueTableName('undying')
      await createTable({ client, tableName })
      const seen = slowLikeAWS(own, tableName, { deleting: Number.POSITIVE_INFINITY })
      const { error, elapsed } = await failureOf(deleteTable({ client: own, tableName, maxWaitTime: 2 }))
      expect(error).toBeInstanceOf(TableError)
      expect(error).toMatchObject({ code: 'TABLE_TIMEOUT' })
      expect((error as TableError).message).toContain(`Table "${tableName}" was still there after`)
      expect(elapsed).toBeLessThan(2000 + 3000)
      expect(seen.stalled.deleting).toBeGreaterThanOrEqual(2)
    } finally {
      own.destroy()
    }
  })
})
