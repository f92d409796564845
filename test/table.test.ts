// createTable, checkTable and deleteTable on AWS's DynamoDB Local.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../src/config-error.ts'
import { DynamoDBStore } from '../src/dynamodb-store.ts'
import { getSession } from '../src/manager.ts'
import { nowInSeconds } from '../src/store.ts'
import { checkTable, createTable, deleteTable } from '../src/table.ts'
import { TableError } from '../src/table-error.ts'
import { countCalls, createSessionTable, localClient, uniqueTableName } from './dynamodb.ts'
import { app } from './harness.ts'

const client = localClient()
afterAll(() => client.destroy())

async function ttlOf(tableName: string) {
  const { TimeToLiveDescription: ttl } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  )
  return { status: ttl?.TimeToLiveStatus, attribute: ttl?.AttributeName }
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
})
