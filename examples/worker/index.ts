// The same session middleware on Cloudflare Workers: no Node APIs, credentials from env bindings.
import { DynamoDBStore, getSession, sessionMiddleware } from '../../src/index.ts'

interface Env {
  AWS_REGION: string
  AWS_ACCESS_KEY_ID: string
  AWS_SECRET_ACCESS_KEY: string
  /** Optional: DynamoDB Local or another endpoint. */
  DYNAMODB_ENDPOINT?: string
  SESSION_TABLE: string
  SESSION_SECRET: string
}

type Middleware = ReturnType<typeof sessionMiddleware>
let withSession: Middleware | undefined

/** Built once per isolate, on the first request, because env arrives with the request. */
function middleware(env: Env): Middleware {
  withSession ??= sessionMiddleware({
    secretKey: env.SESSION_SECRET,
    store: new DynamoDBStore({
      tableName: env.SESSION_TABLE,
      region: env.AWS_REGION,
      ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    }),
  })
  return withSession
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    return middleware(env)(request, async (request) => {
      const session = getSession<{ count: number }>(request)
      const count = ((await session.get('count')) ?? 0) + 1
      await session.set('count', count)
      return new Response(`Visits: ${count}\n`)
    })
  },
}
