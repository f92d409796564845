// The demo behind `npm start`: a visit counter, login and logout, and a flash message, on Hono.
// With no DYNAMODB_ENDPOINT or AWS_REGION it runs on dynalite, an in-memory DynamoDB-compatible
// engine, so no AWS account is needed.
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb'
import { serve } from '@hono/node-server'
import dynalite from 'dynalite'
import { Hono } from 'hono'
import { html, raw } from 'hono/html'
import { hashSessionId } from '../../src/crypto.ts'
import { type SessionEnv, session } from '../../src/hono.ts'
import { DynamoDBStore } from '../../src/index.ts'

type Data = { visits: number; user: string; notice: string }

export async function startDemo({ port = 3000, hostname = '127.0.0.1' } = {}) {
  const database = await openDatabase()
  const tableName = process.env.SESSION_TABLE ?? 'sessions'
  await createTableIfMissing(database.client, tableName)

  const app = new Hono<SessionEnv<Data>>()
  app.use(
    session({
      secretKey: process.env.SESSION_SECRET ?? randomSecret(),
      store: new DynamoDBStore({ client: database.client, tableName }),
      // Browsers keep Secure cookies off plain http:// (but for localhost), so the demo drops it
      // outside production; a real deployment runs on HTTPS with the default.
      cookie: { secure: process.env.NODE_ENV === 'production' },
    }),
  )

  app.get('/', async (c) => {
    const session = c.get('session')
    const visits = ((await session.get('visits')) ?? 0) + 1
    await session.set('visits', visits)
    const user = await session.get('user')
    const notice = await session.get('notice')
    return c.html(
      page(html`
        ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
        <p>Visits in this session: <strong id="visits">${visits}</strong></p>
        ${
          user
            ? html`<p>Signed in as <strong id="user">${user}</strong>.</p>
                <form method="post" action="/logout"><button>Log out</button></form>`
            : html`<form method="post" action="/login">
                <label>Name <input name="name" required maxlength="40" autocomplete="username"></label>
                <button>Log in</button>
              </form>`
        }
        <p><a href="/session">What is stored?</a></p>
      `),
    )
  })

  app.post('/login', async (c) => {
    const name = String((await c.req.parseBody()).name ?? '')
      .trim()
      .slice(0, 40)
    if (!name) return c.redirect('/', 303)
    const session = c.get('session')
    await session.regenerate() // a new id whenever privileges change
    await session.set('user', name)
    await session.flash('notice', `Welcome, ${name}!`)
    return c.redirect('/', 303)
  })

  app.post('/logout', async (c) => {
    const session = c.get('session')
    await session.destroy()
    await session.flash('notice', 'You are logged out.') // starts a new session for the message
    return c.redirect('/', 303)
  })

  app.get('/session', async (c) => {
    const session = c.get('session')
    const values = await session.all()
    return c.html(
      page(html`
        <p>The table's key for this session is the SHA-256 of its id, never the id itself:</p>
        <p><code id="key">${await hashSessionId(session.id)}</code></p>
        <p>Stored values: <code id="values">${JSON.stringify(values)}</code></p>
        <p><a href="/">Back</a></p>
      `),
    )
  })

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port, hostname }, () => resolve(started))
  })
  const { port: actualPort } = server.address() as AddressInfo
  return {
    url: `http://${hostname}:${actualPort}`,
    async close() {
      await new Promise((resolve) => server.close(resolve))
      await database.close()
    },
  }
}

function page(body: ReturnType<typeof html>) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>dynamodb-session demo</title>
        <style>
          ${raw(`body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
          .notice { background: #e7f5e9; border-left: 4px solid #2e7d32; padding: .5rem 1rem; }
          code { word-break: break-all; }`)}
        </style>
      </head>
      <body>
        <h1>dynamodb-session demo</h1>
        ${body}
      </body>
    </html>`
}

/** DynamoDB where one is configured, else an embedded in-memory dynalite. */
async function openDatabase(): Promise<{ client: DynamoDBClient; close(): Promise<void> }> {
  if (process.env.DYNAMODB_ENDPOINT || process.env.AWS_REGION) {
    const endpoint = process.env.DYNAMODB_ENDPOINT
    const client = new DynamoDBClient(endpoint ? { endpoint } : {})
    return { client, close: async () => client.destroy() }
  }
  const engine = dynalite({ createTableMs: 0 })
  await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', resolve))
  const { port } = engine.address() as AddressInfo
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
  })
  return {
    client,
    async close() {
      client.destroy()
      await new Promise((resolve) => engine.close(resolve))
    },
  }
}

async function createTableIfMissing(client: DynamoDBClient, tableName: string) {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'session_id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'session_id', AttributeType: 'S' }],
      }),
    )
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error
  }
}

function randomSecret(): string {
  console.warn('SESSION_SECRET is not set: using a random one, so sessions end when the demo restarts.')
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startDemo({ port: Number(process.env.PORT ?? 3000) })
  console.log(`dynamodb-session demo on ${url}`)
}
