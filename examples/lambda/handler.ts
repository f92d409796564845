// The Lambda handler: API Gateway REST (payload 1.0), HTTP API (2.0) and Function URLs, through
// hono/aws-lambda's handle(), which turns each event into a Request and the Response back.
//
// Everything expensive happens once per execution environment, at init, outside the handler:
// the SDK client (its connection pool is reused by every invocation) and the session middleware
// (which validates its options and imports the secret as a WebCrypto key).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { handle } from 'hono/aws-lambda'
import { DynamoDBStore } from '../../src/index.ts'
import { createApp } from './app.ts'

const tableName = process.env.SESSION_TABLE
const secretKey = process.env.SESSION_SECRET
if (!tableName || !secretKey) {
  throw new Error(
    'Set SESSION_TABLE (the sessions table) and SESSION_SECRET (32+ characters) for the function.',
  )
}

// DYNAMODB_ENDPOINT is for DynamoDB Local; on Lambda the SDK finds the region and the
// function role's credentials in the environment.
const endpoint = process.env.DYNAMODB_ENDPOINT
const client = new DynamoDBClient(endpoint ? { endpoint } : {})

export const handler = handle(createApp({ secretKey, store: new DynamoDBStore({ client, tableName }) }))
