// The plain-fetch variant of handler.ts: the same init outside the handler, no framework.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBStore } from '../../src/index.ts'
import { createFetchHandler, lambdaHandler } from './fetch-app.ts'

const tableName = process.env.SESSION_TABLE
const secretKey = process.env.SESSION_SECRET
if (!tableName || !secretKey) {
  throw new Error(
    'Set SESSION_TABLE (the sessions table) and SESSION_SECRET (32+ characters) for the function.',
  )
}
const endpoint = process.env.DYNAMODB_ENDPOINT
const client = new DynamoDBClient(endpoint ? { endpoint } : {})

export const handler = lambdaHandler(
  createFetchHandler({ secretKey, store: new DynamoDBStore({ client, tableName }) }),
)
