// The test infrastructure itself: DynamoDB Local answers, tables get created, calls get counted.
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb'
import { expect, inject, test } from 'vitest'
import { countCalls, createSessionTable, localClient, scanAll, uniqueTableName } from '../support/dynamodb.ts'

test('DynamoDB Local stores and returns an item, and every command sent is counted', async () => {
  expect(inject('dynamodbEndpoint')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  const client = localClient()
  const counter = countCalls(client)
  try {
    const tableName = await createSessionTable(client, uniqueTableName('infra'))
    expect(counter.count('CreateTableCommand')).toBe(1)
    expect(counter.count('DescribeTableCommand')).toBeGreaterThanOrEqual(1) // the waiter's polls
    counter.reset()
    expect(counter.count()).toBe(0)

    const item = { session_id: { S: 'abc' }, data: { S: '{"n":1}' }, expires: { N: '1700000000' } }
    await client.send(new PutItemCommand({ TableName: tableName, Item: item }))
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { session_id: { S: 'abc' } }, ConsistentRead: true }),
    )
    expect(Item).toEqual(item)
    expect(await scanAll(client, tableName)).toEqual([item])

    expect(counter.calls).toEqual(['PutItemCommand', 'GetItemCommand', 'ScanCommand'])
    expect(counter.count()).toBe(3)
    expect(counter.count('GetItemCommand')).toBe(1)
  } finally {
    client.destroy()
  }
})
