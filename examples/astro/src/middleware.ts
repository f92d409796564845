// The session for every on-demand request: `locals.session`, loaded from DynamoDB only when a
// page, endpoint or action uses it.
//
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 SESSION_SECRET=$(openssl rand -base64 32) npm run dev
//   AWS_REGION=eu-west-1 SESSION_TABLE=sessions SESSION_SECRET=… npm start   # after npm run build

import { getSecret } from 'astro:env/server'
import { createTable, DynamoDBStore, type DynamoDBStoreOptions } from 'dynamodb-session'
import { type SessionMiddleware, session } from 'dynamodb-session/astro'

let withSession: Promise<SessionMiddleware> | undefined

export const onRequest: SessionMiddleware = (context, next) => {
  // Astro also runs middleware at build time to prerender static pages (src/pages/about.astro):
  // no visitor then, so no session, and no secret or table needed to build.
  if (context.isPrerendered) return next()
  // A failed start (say, the table could not be made) is tried again by the next request.
  withSession ??= createSessionMiddleware().catch((error) => {
    withSession = undefined
    throw error
  })
  return withSession.then((handle) => handle(context, next))
}

async function createSessionMiddleware(): Promise<SessionMiddleware> {
  const options: DynamoDBStoreOptions = {
    tableName: getSecret('SESSION_TABLE') || 'sessions',
    region: getSecret('AWS_REGION') || 'us-east-1',
  }
  const endpoint = getSecret('DYNAMODB_ENDPOINT')
  if (endpoint) {
    options.endpoint = endpoint
    // DynamoDB Local accepts any credentials, but the SDK insists on having some.
    if (!getSecret('AWS_ACCESS_KEY_ID'))
      options.credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
  }
  const store = new DynamoDBStore(options)
  // A local DynamoDB gets its table on first use; a real one is created once, ahead of time.
  if (endpoint) await createTable({ ...options, client: store.client, maxWaitTime: 60 })
  return session({
    secretKey: getSecret('SESSION_SECRET') ?? '',
    store,
    // Secure everywhere but `npm run dev`, whose plain http:// some browsers refuse Secure cookies on.
    cookie: { secure: !import.meta.env.DEV },
  })
}
