// One session configuration for the whole app. The options are a function, built on the first
// request, so `next build` can import the routes without SESSION_SECRET or a table.
import { DynamoDBStore } from 'dynamodb-session'
import { nextSession } from 'dynamodb-session/next'

export type Data = { visits: number; theme: string }

const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = process.env

export const session = nextSession<Data>(() => ({
  secretKey: process.env.SESSION_SECRET ?? '',
  store: new DynamoDBStore({
    tableName: process.env.SESSION_TABLE || 'sessions',
    region: process.env.AWS_REGION || 'us-east-1',
    // DynamoDB Local in development (npm run dynamodb-local); unset in production.
    ...(process.env.DYNAMODB_ENDPOINT ? { endpoint: process.env.DYNAMODB_ENDPOINT } : {}),
    // Passed on, because the SDK's build for the Edge runtime reads no environment variables.
    ...(AWS_ACCESS_KEY_ID && AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: AWS_ACCESS_KEY_ID, secretAccessKey: AWS_SECRET_ACCESS_KEY } }
      : {}),
  }),
}))
