// DynamoDB Local helpers for tests: a client, a call counter, tables.
import {
  type AttributeValue,
  CreateTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  ScanCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb'
import { inject } from 'vitest'

/** A client of the run's DynamoDB Local, with fake credentials (letters and digits only). */
export function localClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: inject('dynamodbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  })
}

export type CallCounter = { calls: string[]; reset(): void; count(name?: string): number }

let counters = 0
/** Records the name of every command the client sends, e.g. 'GetItemCommand', retries not included. */
export function countCalls(client: DynamoDBClient): CallCounter {
  const calls: string[] = []
  counters += 1
  client.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(context.commandName ?? 'unknown')
      return next(args)
    },
    { step: 'initialize', name: `countCalls${counters}` },
  )
  return {
    calls,
    reset: () => {
      calls.length = 0
    },
    count: (name?: string) =>
      name === undefined ? calls.length : calls.filter((call) => call === name).length,
  }
}

let tables = 0
/** A table name no other call returns, in this worker or another one sharing DynamoDB Local. */
export function uniqueTableName(prefix = 'sessions'): string {
  tables += 1
  const random = Math.random().toString(36).slice(2, 8)
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${random}-${tables}`
}

/** A PAY_PER_REQUEST table with string keys, ready to use. */
export async function createSessionTable(
  client: DynamoDBClient,
  name: string,
  { keyAttribute = 'session_id', sortKey }: { keyAttribute?: string; sortKey?: string } = {},
): Promise<string> {
  const keys: KeySchemaElement[] = [{ AttributeName: keyAttribute, KeyType: 'HASH' }]
  if (sortKey) keys.push({ AttributeName: sortKey, KeyType: 'RANGE' })
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keys,
      AttributeDefinitions: keys.map(({ AttributeName }) => ({ AttributeName, AttributeType: 'S' })),
    }),
  )
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: name })
  return name
}

/** Every item of a table, as raw AttributeValue maps (@aws-sdk/util-dynamodb is not installed). */
export async function scanAll(
  client: DynamoDBClient,
  tableName: string,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = []
  let start: Record<string, AttributeValue> | undefined
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }))
    items.push(...(page.Items ?? []))
    start = page.LastEvaluatedKey
  } while (start)
  return items
}
