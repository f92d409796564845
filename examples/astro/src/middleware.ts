// The session for every on-demand request: `locals.session`, loaded from DynamoDB only when a
// page, endpoint or action uses it.
//
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 SESSION_SECRET=$(openssl rand -base64 32) npm run dev
//   AWS_REGION=eu-west-1 SESSION_TABLE=sessions SESSION_SECRET=… npm start   # after npm run build
import { getSecret } from 'astro:env/server'
import { createTable, DynamoDBStore, type DynamoDBStoreOptions } from 'dynamodb-session'
import { session } from 'dynamodb-session/astro'

const storeOptions: DynamoDBStoreOptions = {
  tableName: getSecret('SESSION_TABLE') || 'sessions',
  region: getSecret('AWS_REGION') || 'us-east-1',
}
const endpoint = getSecret('DYNAMODB_ENDPOINT')
if (endpoint) {
  storeOptions.endpoint = endpoint
  // DynamoDB Local accepts any credentials, but the SDK insists on having some.
  if (!getSecret('AWS_ACCESS_KEY_ID'))
    storeOptions.credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
}
const store = new DynamoDBStore(storeOptions)
// A local DynamoDB gets its table at startup; a real one is created once, ahead of time.
if (endpoint) await createTable({ ...storeOptions, client: store.client, maxWaitTime: 60 })

export const onRequest = session({
  secretKey: getSecret('SESSION_SECRET') ?? '',
  store,
  // Plain http://127.0.0.1 in development: browsers drop Secure cookies there.
  cookie: { secure: import.meta.env.PROD && getSecret('NODE_ENV') === 'production' },
})
