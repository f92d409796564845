// The Deno, Bun and Workers examples, each started over real HTTP against DynamoDB Local and
// driven like a browser with a cookie jar. (The Node example has its own test: demo.test.ts.)
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, describe, expect, inject, test } from 'vitest'
import { createTable } from '../src/index.ts'
import { startProcess } from './support/built-app.ts'
import { uniqueTableName } from './support/dynamodb.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const SECRET = 'examples-test-secret-0123456789abcdef'
const local = { accessKeyId: 'local', secretAccessKey: 'local' }

interface Server {
  url: string
  stop(): Promise<void>
}

const servers: Server[] = []
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()))
})

/** Runs `command` until it prints the demo's "… on http://…" line. */
function startDemo(command: string, args: string[], tableName: string): Promise<Server> {
  const env = {
    ...process.env,
    DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
    SESSION_TABLE: tableName,
    SESSION_SECRET: SECRET,
    PORT: '0',
    NO_COLOR: '1',
  }
  return startProcess(command, args, { cwd: root, env, ready: /demo on (http:\/\/\S+)/ })
}

async function startWorker(tableName: string): Promise<Server> {
  const endpoint = inject('dynamodbEndpoint')
  await createTable({ tableName, endpoint, region: 'us-east-1', credentials: local, maxWaitTime: 30 })
  const bundle = await build({
    entryPoints: [`${root}examples/worker/index.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['worker', 'browser'],
    write: false,
    logLevel: 'error',
  })
  const miniflare = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]?.text ?? '',
    compatibilityDate: '2025-12-01',
    host: '127.0.0.1',
    port: 0,
    bindings: {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      DYNAMODB_ENDPOINT: endpoint,
      SESSION_TABLE: tableName,
      SESSION_SECRET: SECRET,
      COOKIE_SECURE: 'false',
    },
  })
  const url = (await miniflare.ready).origin
  return { url, stop: () => miniflare.dispose() }
}

/** One browser: keeps the session cookie as Set-Cookie headers say, follows no redirects. */
class Browser {
  cookie: string | undefined
  constructor(readonly origin: string) {}

  async request(path: string, init: RequestInit = {}) {
    const response = await fetch(new URL(path, this.origin), {
      ...init,
      redirect: 'manual',
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...init.headers },
    })
    const setCookie = response.headers.get('set-cookie')
    if (setCookie) {
      const pair = setCookie.split(';')[0] ?? ''
      this.cookie = /max-age=0/i.test(setCookie) ? undefined : pair
    }
    return { response, text: await response.text() }
  }

  async page(path = '/') {
    const { response, text } = await this.request(path)
    expect(response.status).toBe(200)
    return {
      visits: Number(/id="visits">(\d+)</.exec(text)?.[1]),
      user: /id="user">([^<]*)</.exec(text)?.[1],
      notice: /class="notice"[^>]*>([^<]*)</.exec(text)?.[1],
      text,
    }
  }

  async post(path: string, form: Record<string, string> = {}) {
    const { response } = await this.request(path, { method: 'POST', body: new URLSearchParams(form) })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
  }
}

const examples = {
  deno: (table: string) =>
    startDemo(
      `${root}node_modules/.bin/deno`,
      [
        'run',
        '--allow-net=127.0.0.1',
        '--allow-env',
        // Exactly the permissions docs/runtimes.md asks for: no --allow-read.
        '--allow-sys=osRelease',
        'examples/deno/server.ts',
      ],
      table,
    ),
  bun: (table: string) => startDemo(`${root}node_modules/.bin/bun`, ['examples/bun/server.ts'], table),
  worker: startWorker,
}

describe.each(Object.keys(examples) as (keyof typeof examples)[])('the %s example', (name) => {
  test('counts visits, regenerates on login, kills the old cookie, logs out', async () => {
    const server = await examples[name](uniqueTableName(`example-${name}`))
    servers.push(server)
    const browser = new Browser(server.url)

    expect((await browser.page()).visits).toBe(1)
    expect((await browser.page()).visits).toBe(2)
    expect((await browser.page()).visits).toBe(3)
    const beforeLogin = browser.cookie
    expect(beforeLogin).toMatch(/^sid=/)

    const stored = await browser.page('/session')
    expect(stored.text).toMatch(/id="key">[\w-]{43}</)
    expect(stored.text).toContain('id="stored">yes<')

    await browser.post('/login', { name: 'Ada <3' })
    const afterLogin = browser.cookie
    expect(afterLogin).toBeDefined()
    expect(afterLogin).not.toBe(beforeLogin)
    const home = await browser.page()
    expect(home).toMatchObject({ visits: 4, user: 'Ada &lt;3', notice: 'Welcome, Ada &lt;3!' })
    expect((await browser.page()).notice).toBeUndefined() // a flash is shown once

    // The id from before login was deleted: that cookie now starts a new, empty session.
    const attacker = new Browser(server.url)
    attacker.cookie = beforeLogin
    expect(await attacker.page()).toMatchObject({ visits: 1, user: undefined })

    await browser.post('/logout')
    expect(await browser.page()).toMatchObject({ visits: 1, user: undefined, notice: 'You are logged out.' })
    const stale = new Browser(server.url)
    stale.cookie = afterLogin
    expect(await stale.page()).toMatchObject({ visits: 1, user: undefined })
  }, 60_000)
})
