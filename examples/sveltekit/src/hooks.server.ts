// The session for every request: `locals.session`, loaded from DynamoDB only when a route uses it.
//
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 SESSION_SECRET=$(openssl rand -base64 32) npm run dev
//   AWS_REGION=eu-west-1 SESSION_TABLE=sessions SESSION_SECRET=… node build   # after npm run build

import type { ServerInit } from '@sveltejs/kit'
import { createTable, DynamoDBStore, type DynamoDBStoreOptions } from 'dynamodb-session'
import { session } from 'dynamodb-session/sveltekit'
import { dev } from '$app/environment'
import { env } from '$env/dynamic/private'

const storeOptions: DynamoDBStoreOptions = {
  tableName: env.SESSION_TABLE || 'sessions',
  region: env.AWS_REGION || 'us-east-1',
}
if (env.DYNAMODB_ENDPOINT) {
  storeOptions.endpoint = env.DYNAMODB_ENDPOINT
  // DynamoDB Local accepts any credentials, but the SDK insists on having some.
  if (!env.AWS_ACCESS_KEY_ID) storeOptions.credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
}
const store = new DynamoDBStore(storeOptions)

export const handle = session({
  secretKey: env.SESSION_SECRET ?? '',
  store,
  // Secure everywhere but `npm run dev`, whose plain http:// some browsers refuse Secure cookies on.
  cookie: { secure: !dev },
})

/** A local DynamoDB gets its table at startup; a real one is created once, ahead of time. */
export const init: ServerInit = async () => {
  if (env.DYNAMODB_ENDPOINT) await createTable({ ...storeOptions, client: store.client, maxWaitTime: 60 })
}
