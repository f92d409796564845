// Runs on Bun, started by elysia.test.ts: the Elysia example app plus a few routes that only
// tests need, served over HTTP (app.listen), and a second server on which each POST is a request
// to replay through app.handle(new Request(...)), so both paths are driven the same way.
// `hardened` is a second app, reached through app.handle only. Prints one JSON line: { "http": origin, "handle": origin }.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { Elysia, status } from 'elysia'
import { createApp } from '../../examples/elysia/app.ts'
import { session } from '../../src/adapters/elysia.ts'
import { DynamoDBStore } from '../../src/index.ts'

declare const Bun: {
  serve(options: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): {
    url: URL
  }
}

const client = new DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:8000',
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
})
const store = new DynamoDBStore({ client, tableName: process.env.SESSION_TABLE ?? '' })
const app = createApp({ store, secretKey: process.env.SESSION_SECRET ?? '', secure: false })
  // The handler's own cookie, through Elysia's cookie jar, beside the session cookie.
  .get('/theme', async ({ session, cookie: { theme } }) => {
    theme?.set({ value: 'dark', path: '/', httpOnly: true })
    await session.set('notice', 'themed')
    return 'themed'
  })
  // The handler's own Set-Cookie on a Response it built itself, and one more through the jar.
  .get('/own-response', async ({ session, cookie: { layout } }) => {
    layout?.set({ value: 'wide', path: '/' })
    await session.set('notice', 'own response')
    return new Response('own response', { headers: { 'set-cookie': 'own=1; Path=/' } })
  })
  .get('/throws', async ({ session }) => {
    await session.set('visits', 1000)
    throw new Error('the handler failed after changing the session')
  })
  .get('/status-500', async ({ session }) => {
    await session.set('visits', 1000)
    return status(500, 'failed')
  })
  .get('/set-status-503', async ({ session, set }) => {
    await session.set('visits', 1000)
    set.status = 'Service Unavailable'
    return 'unavailable'
  })
  .listen({ port: 0, hostname: '127.0.0.1' })

/** The strictest cookie options, to prove each attribute survives Elysia's cookie jar. */
const hardened = new Elysia()
  .use(
    session({
      secretKey: process.env.SESSION_SECRET ?? '',
      store,
      cookie: { name: '__Host-sid', maxAge: 3600, sameSite: 'strict', partitioned: true },
    }),
  )
  .get('/', async ({ session }) => {
    await session.set('visits', 1)
    return 'hardened'
  })

/** Replays a request described as JSON through app.handle and answers what came back, as JSON. */
const handle = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(control) {
    const {
      method,
      path,
      headers,
      body,
      app: which,
    } = (await control.json()) as {
      method: string
      path: string
      headers: Record<string, string>
      body?: string
      app?: 'hardened'
    }
    const response = await (which === 'hardened' ? hardened : app).handle(
      new Request(`http://app.test${path}`, { method, headers, body: body ?? null }),
    )
    const plain = Object.fromEntries([...response.headers].filter(([name]) => name !== 'set-cookie'))
    return Response.json({
      status: response.status,
      headers: plain,
      setCookie: response.headers.getSetCookie(),
      body: await response.text(),
    })
  },
})

export type HandledResponse = {
  status: number
  headers: Record<string, string>
  setCookie: string[]
  body: string
}

console.log(JSON.stringify({ http: app.server?.url.origin, handle: handle.url.origin }))
