// The demo behind `npm start`: a visit counter, login and logout, and a flash message, on Hono.
// With no DYNAMODB_ENDPOINT or AWS_REGION it runs on dynalite, an in-memory DynamoDB-compatible
// engine, so no AWS account is needed.
//
//   npm start                                               # embedded dynalite, http://127.0.0.1:3000
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 npm start       # DynamoDB Local
//   AWS_REGION=eu-west-1 SESSION_TABLE=sessions npm start   # DynamoDB, credentials from the usual chain
import { realpathSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb'
import { serve } from '@hono/node-server'
import dynalite from 'dynalite'
import { Hono } from 'hono'
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { type SessionEnv, session } from '../../src/adapters/hono.ts'
import { DynamoDBStore, hashSessionId } from '../../src/index.ts'

type Data = { visits: number; user: string; notice: string }

type Html = HtmlEscapedString | Promise<HtmlEscapedString>

export interface DemoOptions {
  /** 0 picks a free port. @default 0 */
  port?: number
  /** @default '127.0.0.1' */
  hostname?: string
}

export interface Demo {
  url: string
  close(): Promise<void>
}

/** Starts the demo: its database (embedded unless configured), the table, and the HTTP server. */
export async function startDemo({ port = 0, hostname = '127.0.0.1' }: DemoOptions = {}): Promise<Demo> {
  const database = await openDatabase()
  try {
    const tableName = process.env.SESSION_TABLE || 'sessions'
    await createTableIfMissing(database.client, tableName)
    const store = new DynamoDBStore({ client: database.client, tableName })
    const app = createApp(store)
    const server = await listen(app, port, hostname)
    const { port: actualPort } = server.address() as AddressInfo
    return {
      url: `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${actualPort}`,
      async close() {
        await new Promise<void>((resolve, reject) =>
          server.close((error) => (error ? reject(error) : resolve())),
        )
        await database.close()
      },
    }
  } catch (error) {
    await database.close()
    throw error
  }
}

function createApp(store: DynamoDBStore): Hono<SessionEnv<Data>> {
  const app = new Hono<SessionEnv<Data>>()
  app.use(
    session({
      secretKey: process.env.SESSION_SECRET || randomSecret(),
      store,
      // The demo is served on plain http://127.0.0.1, and browsers drop Secure cookies there
      // (a Secure cookie is only kept for https:// origins, localhost aside), so it would never
      // see its session again. Production runs on HTTPS and keeps the default, secure: true.
      cookie: { secure: process.env.NODE_ENV === 'production' },
    }),
  )
  // Every page shows this visitor's session: no shared cache may keep it.
  app.use(async (c, next) => {
    await next()
    c.header('Cache-Control', 'no-store')
  })

  app.get('/', async (c) => {
    const session = c.get('session')
    const visits = ((await session.get('visits')) ?? 0) + 1
    await session.set('visits', visits)
    const user = await session.get('user')
    const notice = await session.get('notice') // a flash value: shown once, then gone
    return c.html(
      page(
        'Home',
        html`
          ${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
          <p>Visits in this session: <strong id="visits">${visits}</strong></p>
          ${
            user
              ? html`<p>Logged in as <strong id="user">${user}</strong>.</p>
                  <form method="post" action="/logout"><button type="submit">Log out</button></form>`
              : html`<form method="post" action="/login">
                  <label for="name">Your name</label>
                  <input id="name" name="name" required maxlength="40" autocomplete="username">
                  <button type="submit">Log in</button>
                </form>`
          }
          <p><a href="/session">What does the table hold for this session?</a></p>
        `,
      ),
    )
  })

  // Plain form posts are safe from cross-site forgery here because the session cookie is
  // SameSite=Lax (the default): a browser does not send it with another site's POST.
  app.post('/login', async (c) => {
    const body = await c.req.parseBody()
    const name = (typeof body.name === 'string' ? body.name : '').trim().slice(0, 40)
    const session = c.get('session')
    if (!name) {
      await session.flash('notice', 'Please enter a name.')
      return c.redirect('/', 303)
    }
    await session.set('user', name)
    // Privileges change: the data moves to a new session id, and the old id is deleted, so an
    // id planted in this browser before login is worthless after it.
    await session.regenerate()
    await session.flash('notice', `Welcome, ${name}!`)
    return c.redirect('/', 303)
  })

  app.post('/logout', async (c) => {
    const session = c.get('session')
    // Deletes the stored session (the old cookie is worthless from now on). The flash below then
    // starts a new, otherwise empty session under a new id, which carries the message to the
    // next page; the visit count starts again, as it would for a new visitor.
    await session.destroy()
    await session.flash('notice', 'You are logged out.')
    return c.redirect('/', 303)
  })

  app.get('/session', async (c) => {
    const session = c.get('session')
    const values = await session.all() // loads the session, so session.id is the live one
    const key = await hashSessionId(session.id)
    const stored = (await store.load(key)) !== undefined
    return c.html(
      page(
        'Stored session',
        html`
          <p>The table keys each session by the SHA-256 of its id, never by the id itself, so a copy of
            the table holds no usable cookie. This browser's key:</p>
          <p><code id="key">${key}</code></p>
          <p>Stored in the table: <strong id="stored">${stored ? 'yes' : 'no'}</strong></p>
          <p>Values: <code id="values">${JSON.stringify(values)}</code></p>
          <p><a href="/">Back</a></p>
        `,
      ),
    )
  })

  return app
}

/** Every interpolated value goes through hono/html, which escapes it. */
function page(title: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${title} · dynamodb-session demo</title>
        <style>
          ${raw(`body { font: 1rem/1.5 system-ui, sans-serif; max-width: 38rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
          .notice { background: #e7f5e9; border-left: 4px solid #2e7d32; padding: .5rem 1rem; }
          label { display: block; font-weight: 600; }
          input, button { font: inherit; padding: .25rem .5rem; }
          :focus-visible { outline: 3px solid #1565c0; outline-offset: 2px; }
          a { color: #1565c0; }
          code { word-break: break-all; }`)}
        </style>
      </head>
      <body>
        <main>
          <h1>dynamodb-session demo</h1>
          ${body}
        </main>
      </body>
    </html>`
}

function listen(app: Hono<SessionEnv<Data>>, port: number, hostname: string) {
  return new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname }, () => {
      server.off('error', reject)
      resolve(server)
    })
    server.once('error', reject) // e.g. the port is taken
  })
}

/** DynamoDB where one is configured, else an embedded in-memory dynalite. */
async function openDatabase(): Promise<{ client: DynamoDBClient; close(): Promise<void> }> {
  const endpoint = process.env.DYNAMODB_ENDPOINT
  if (endpoint || process.env.AWS_REGION) {
    const config: DynamoDBClientConfig = { region: process.env.AWS_REGION || 'us-east-1' }
    if (endpoint) {
      config.endpoint = endpoint
      // DynamoDB Local accepts any credentials, but the SDK insists on having some.
      if (!process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE) {
        config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
      }
    }
    const client = new DynamoDBClient(config)
    return { client, close: async () => client.destroy() }
  }
  const engine = dynalite({ createTableMs: 0 }) // no `path`: in memory, gone when the demo stops
  await new Promise<void>((resolve, reject) => {
    engine.once('error', reject)
    engine.listen(0, '127.0.0.1', () => {
      engine.off('error', reject)
      resolve()
    })
  })
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

/** The table the store expects (string hash key `session_id`), made if missing, and waited for. */
async function createTableIfMissing(client: DynamoDBClient, tableName: string): Promise<void> {
  if (await tableStatus(client, tableName)) return waitUntilActive(client, tableName)
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
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error // else: a race
  }
  await waitUntilActive(client, tableName)
  try {
    // DynamoDB deletes expired sessions by itself with TTL on the store's expiry attribute.
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: 'expire_at', Enabled: true },
      }),
    )
  } catch {
    // dynalite has no TTL. Nothing breaks without it: the store never serves an expired session,
    // the items merely stay until something deletes them.
  }
}

async function tableStatus(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    return Table?.TableStatus ?? 'UNKNOWN'
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined
    throw error
  }
}

/** dynalite and DynamoDB Local are ready at once; DynamoDB takes some seconds. */
async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 120_000
  for (let delay = 20; ; delay = Math.min(delay * 2, 2000)) {
    if ((await tableStatus(client, tableName)) === 'ACTIVE') return
    if (Date.now() > deadline) throw new Error(`Table "${tableName}" is not ACTIVE after 120 s.`)
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

function randomSecret(): string {
  console.warn('SESSION_SECRET is not set: using a random secret, so sessions will not survive a restart.')
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
}

function isMain(): boolean {
  const script = process.argv[1]
  if (!script) return false
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) {
  const demo = await startDemo({ port: Number(process.env.PORT || 3000), hostname: '127.0.0.1' })
  console.log(`dynamodb-session demo on ${demo.url}`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      demo.close().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    })
  }
}
