// The demo on Cloudflare Workers (`npx wrangler dev`, see wrangler.toml): the portable app of
// app.ts, with no Node APIs and no nodejs_compat; credentials from env bindings (secrets).
import { DynamoDBStore } from '../../src/index.ts'
import { createApp } from './app.ts'

export interface Env {
  AWS_REGION: string
  AWS_ACCESS_KEY_ID: string
  AWS_SECRET_ACCESS_KEY: string
  /** Optional: DynamoDB Local or another endpoint. */
  DYNAMODB_ENDPOINT?: string
  SESSION_TABLE: string
  SESSION_SECRET: string
  /** "false" only for local plain-HTTP development: browsers drop Secure cookies there. */
  COOKIE_SECURE?: string
}

let app: ((request: Request) => Promise<Response>) | undefined

/** Built once per isolate, on the first request, because env arrives with the request. */
function appFor(env: Env): (request: Request) => Promise<Response> {
  app ??= createApp({
    secretKey: env.SESSION_SECRET,
    secure: env.COOKIE_SECURE !== 'false',
    store: new DynamoDBStore({
      tableName: env.SESSION_TABLE,
      region: env.AWS_REGION,
      ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    }),
  })
  return app
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return appFor(env)(request)
  },
}
