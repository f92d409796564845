// `npm run example:react-router`: the React Router example app on http://127.0.0.1:3000.
// With no DYNAMODB_ENDPOINT or AWS_REGION it keeps sessions in dynalite, an in-memory
// DynamoDB-compatible engine, so no AWS account is needed.
//
//   npm run example:react-router                                   # embedded dynalite
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 npm run example:react-router
//   AWS_REGION=eu-west-1 SESSION_TABLE=sessions npm run example:react-router
import type { AddressInfo } from 'node:net'
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { serve } from '@hono/node-server'
import dynalite from 'dynalite'
import { createRequestHandler } from 'react-router'
import { createTable, DynamoDBStore } from '../../src/index.ts'
import { createApp } from './app.ts'

const tableName = process.env.SESSION_TABLE || 'sessions'
const configured = Boolean(process.env.DYNAMODB_ENDPOINT || process.env.AWS_REGION)
const client = await openClient()
if (configured)
  await createTable({ client, tableName }) // idempotent: adopts an existing table
else await createDynaliteTable(client)

const build = createApp({
  secretKey: process.env.SESSION_SECRET || randomSecret(),
  store: new DynamoDBStore({ client, tableName }),
  // Plain HTTP on localhost: browsers drop Secure cookies there only in some cases; be explicit.
  cookie: { secure: process.env.NODE_ENV === 'production' },
})
const handle = createRequestHandler(
  build,
  process.env.NODE_ENV === 'production' ? 'production' : 'development',
)
const server = serve({
  fetch: (request) => handle(request),
  port: Number(process.env.PORT || 3000),
  hostname: '127.0.0.1',
})
server.once('listening', () => {
  console.log(`React Router example on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})

/** DynamoDB where one is configured, else an embedded in-memory dynalite. */
async function openClient(): Promise<DynamoDBClient> {
  const endpoint = process.env.DYNAMODB_ENDPOINT
  if (configured) {
    return new DynamoDBClient({
      region: process.env.AWS_REGION || 'us-east-1',
      ...(endpoint && !process.env.AWS_ACCESS_KEY_ID
        ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : endpoint
          ? { endpoint }
          : {}),
    })
  }
  const engine = dynalite({ createTableMs: 0 })
  await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', () => resolve()))
  const { port } = engine.address() as AddressInfo
  return new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
  })
}

/** dynalite has no TTL, which createTable() turns on: the table alone, which is all the store needs. */
async function createDynaliteTable(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'session_id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'session_id', AttributeType: 'S' }],
    }),
  )
}

function randomSecret(): string {
  console.warn('SESSION_SECRET is not set: using a random secret, so sessions will not survive a restart.')
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
}
