// The Next.js adapter through Next's own request handling: the example app (examples/next) plus
// a few fixture routes (test/adapters/next-fixtures) is copied into .cache/next-app, built once
// with `next build`, served by `next start` on 127.0.0.1 against DynamoDB Local behind a counting
// proxy, and driven over HTTP like a browser without JavaScript: Route Handlers, Server Actions
// posted from the server-rendered forms, Server Components, and a Route Handler on the Edge runtime.
import { type ChildProcess, spawn } from 'node:child_process'
import { cp, mkdir, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createSessionTable, localClient, uniqueTableName } from '../support/dynamodb.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { SECRET, sessionCookie } from '../support/harness.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const app = `${root}.cache/next-app`
const next = `${root}node_modules/.bin/next`
let proxy: Awaited<ReturnType<typeof startFaultProxy>>
let server: ChildProcess | undefined
let origin = ''

/** Runs `next <args>` in the app folder; resolves with its output once `done` matches it (or it exits 0). */
function runNext(
  args: string[],
  env: NodeJS.ProcessEnv,
  done?: RegExp,
): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(next, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] })
  return new Promise((resolve, reject) => {
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (done?.test(output)) resolve({ child, output })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code === 0 && !done) resolve({ child, output })
      else reject(new Error(`next ${args.join(' ')} exited with ${code}:\n${output}`))
    })
  })
}

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** Build time of this run, for the report at the end of the file. */
let buildMs = 0

beforeAll(async () => {
  proxy = await startFaultProxy(inject('dynamodbEndpoint'))
  const tableName = await createSessionTable(localClient(), uniqueTableName('next'))
  // A fresh copy of the sources; .next/cache is kept, so a second run builds faster.
  await mkdir(app, { recursive: true })
  for (const folder of ['app', 'lib']) await rm(`${app}/${folder}`, { recursive: true, force: true })
  await cp(`${root}examples/next`, app, {
    recursive: true,
    filter: (source) => !/[\\/](\.next|node_modules)$/.test(source),
  })
  await cp(`${root}test/adapters/next-fixtures/app`, `${app}/app`, { recursive: true })
  const env = {
    ...process.env,
    NEXT_TELEMETRY_DISABLED: '1',
    NO_COLOR: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }
  const started = Date.now()
  await runNext(['build'], env)
  buildMs = Date.now() - started
  const port = await freePort()
  const running = await runNext(
    ['start', '--hostname', '127.0.0.1', '--port', String(port)],
    {
      ...env,
      SESSION_SECRET: SECRET,
      SESSION_TABLE: tableName,
      DYNAMODB_ENDPOINT: proxy.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    },
    /Ready in/,
  )
  server = running.child
  origin = `http://127.0.0.1:${port}`
}, 240_000)

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once('exit', resolve))
    server.kill('SIGTERM')
    await exited
  }
  await proxy?.close()
  console.log(`next build took ${(buildMs / 1000).toFixed(1)} s`)
})

interface Sent {
  status: number
  location: string | null
  /** Where Next's client router is told to go after a Server Action's redirect(). */
  actionRedirect: string | null
  setCookie: string[]
  body: string
  /** The DynamoDB operations the request caused, in order. */
  operations: string[]
}

/** A browser without JavaScript: keeps the `sid` cookie as Set-Cookie says, follows no redirects. */
class Browser {
  cookie: string | undefined

  async send(path: string, init: RequestInit = {}): Promise<Sent> {
    const headers = new Headers(init.headers)
    if (this.cookie !== undefined) headers.set('cookie', `sid=${this.cookie}`)
    proxy.clear()
    const response = await fetch(`${origin}${path}`, { ...init, headers, redirect: 'manual' })
    const body = await response.text()
    const set = sessionCookie(response)
    if (set) this.cookie = /Max-Age=0/i.test(set.header) ? undefined : set.value
    return {
      status: response.status,
      location: response.headers.get('location'),
      actionRedirect: response.headers.get('x-action-redirect'),
      setCookie: response.headers.getSetCookie(),
      body,
      operations: [...proxy.operations],
    }
  }

  async json(path: string) {
    return JSON.parse((await this.send(path)).body)
  }

  /** Submits the form of `page` whose Server Action has the hidden field `$ACTION_ID_…`, as a browser without JS does. */
  async submit(page: string, action: string, fields: Record<string, string> = {}): Promise<Sent> {
    const form = new FormData()
    form.set(`$ACTION_ID_${action}`, '')
    for (const [name, value] of Object.entries(fields)) form.set(name, value)
    return this.send(page, { method: 'POST', body: form, headers: { origin } })
  }
}

/** The Server Action ids in a server-rendered page, in the order of its forms. */
async function actionIds(page: string, browser: Browser): Promise<string[]> {
  const { body } = await browser.send(page)
  return [...body.matchAll(/name="\$ACTION_ID_([0-9a-f]+)"/g)].map((match) => match[1] as string)
}

const visitsIn = (html: string) => Number(/id="visits">(\d+)</.exec(html)?.[1])
const userIn = (html: string) => /id="user">([^<]*)</.exec(html)?.[1]

/** A Set-Cookie line's attributes, lower-cased and sorted: serializers differ in order and case. */
const attributesOf = (line = '') =>
  line
    .split('; ')
    .slice(1)
    .map((attribute) => attribute.toLowerCase())
    .sort()
const SESSION_ATTRIBUTES = ['httponly', 'path=/', 'samesite=lax', 'secure']
const EXPIRED_ATTRIBUTES = [
  'expires=thu, 01 jan 1970 00:00:00 gmt',
  'max-age=0',
  ...SESSION_ATTRIBUTES,
].sort()

function forged(cookie: string): string {
  const [id, signature = ''] = cookie.split('.')
  return `${id}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
}

describe('Route Handlers wrapped by withSession()', () => {
  it('keeps a session across requests, with a Secure, HttpOnly, SameSite=Lax cookie', async () => {
    const browser = new Browser()
    const first = await browser.send('/api/visits')
    expect(JSON.parse(first.body)).toEqual({ visits: 1 })
    expect(first.operations).toEqual(['PutItem'])
    expect(first.setCookie).toHaveLength(1)
    expect(first.setCookie[0]).toMatch(/^sid=[\w-]{43}\.[\w-]{43};/)
    expect(attributesOf(first.setCookie[0])).toEqual(SESSION_ATTRIBUTES)
    const second = await browser.send('/api/visits')
    expect(JSON.parse(second.body)).toEqual({ visits: 2 })
    expect(second.operations).toEqual(['GetItem', 'UpdateItem'])
    expect(second.setCookie).toEqual([])
  })

  it('makes no DynamoDB call and sends no Set-Cookie on a route that never uses the session', async () => {
    const browser = new Browser()
    for (let request = 0; request < 2; request++) {
      const health = await browser.send('/api/health')
      expect(health.status).toBe(200)
      expect(health.operations).toEqual([])
      expect(health.setCookie).toEqual([])
      await browser.send('/api/visits') // the second round carries a valid cookie
    }
  })

  it('does not read the store for a cookie with a bad signature, and expires that cookie', async () => {
    const browser = new Browser()
    await browser.send('/api/visits')
    browser.cookie = forged(browser.cookie ?? '')
    const me = await browser.send('/api/me')
    expect(JSON.parse(me.body)).toEqual({ user: null, visits: 0 })
    expect(me.operations).toEqual([])
    expect(me.setCookie).toHaveLength(1)
    expect(me.setCookie[0]).toMatch(/^sid=;/)
    expect(attributesOf(me.setCookie[0])).toEqual(EXPIRED_ATTRIBUTES)
  })

  it('reads but neither writes nor sends Set-Cookie when the handler changed nothing', async () => {
    const browser = new Browser()
    await browser.send('/api/visits')
    const me = await browser.send('/api/me')
    expect(JSON.parse(me.body)).toEqual({ user: null, visits: 1 })
    expect(me.operations).toEqual(['GetItem'])
    expect(me.setCookie).toEqual([])
  })

  it('sends the new cookie with the redirect that redirect() throws after log in', async () => {
    const browser = new Browser()
    await browser.send('/api/visits')
    const before = browser.cookie
    const login = await browser.send('/api/login', {
      method: 'POST',
      body: new URLSearchParams({ name: 'Ada' }),
    })
    expect(login.status).toBe(307)
    expect(new URL(login.location ?? '', origin).pathname).toBe('/')
    expect(browser.cookie).toBeDefined()
    expect(browser.cookie).not.toBe(before)
    expect(await browser.json('/api/me')).toEqual({ user: 'Ada', visits: 1 })
    const planted = new Browser()
    planted.cookie = before
    expect(await planted.json('/api/me')).toEqual({ user: null, visits: 0 })
  })

  it("ends the session on log out, its expired cookie added to Response.redirect's immutable headers", async () => {
    const browser = new Browser()
    await browser.send('/api/login', { method: 'POST', body: new URLSearchParams({ name: 'Ada' }) })
    const loggedIn = browser.cookie
    const logout = await browser.send('/api/logout', { method: 'POST' })
    expect(logout.status).toBe(303)
    expect(logout.setCookie).toHaveLength(1)
    expect(attributesOf(logout.setCookie[0])).toEqual(EXPIRED_ATTRIBUTES)
    expect(logout.operations).toEqual(['DeleteItem']) // destroy() needs no read
    const stale = new Browser()
    stale.cookie = loggedIn
    expect(await stale.json('/api/me')).toEqual({ user: null, visits: 0 })
  })

  it("keeps the handler's own cookie, set through cookies(), beside the session cookie", async () => {
    const browser = new Browser()
    const theme = await browser.send('/api/theme?theme=dark', { method: 'POST' })
    expect(theme.setCookie).toHaveLength(2)
    expect(theme.setCookie).toContain('theme=dark; Path=/; SameSite=lax')
    expect(browser.cookie).toMatch(/^[\w-]{43}\.[\w-]{43}$/)
  })

  it('saves nothing and sends no session cookie when the handler throws (500)', async () => {
    const browser = new Browser()
    await browser.send('/api/visits')
    const broken = await browser.send('/fixtures/broken')
    expect(broken.status).toBe(500)
    expect(broken.setCookie).toEqual([])
    expect(broken.operations).toEqual(['GetItem'])
    expect(await browser.json('/api/me')).toEqual({ user: null, visits: 1 })
    const fresh = await new Browser().send('/fixtures/broken')
    expect(fresh.status).toBe(500)
    expect(fresh.operations).toEqual([])
    expect(fresh.setCookie).toEqual([])
  })
})

describe('Server Actions and Server Components', () => {
  it('renders the session in a Server Component with one read, no write and no Set-Cookie', async () => {
    const browser = new Browser()
    const anonymous = await browser.send('/')
    expect(visitsIn(anonymous.body)).toBe(0)
    expect(anonymous.operations).toEqual([]) // no cookie: nothing to read
    expect(anonymous.setCookie).toEqual([])
    await browser.send('/api/visits')
    await browser.send('/api/visits')
    const page = await browser.send('/')
    expect(visitsIn(page.body)).toBe(2)
    expect(page.operations).toEqual(['GetItem']) // one read for the whole render
    expect(page.setCookie).toEqual([])
    browser.cookie = forged(browser.cookie ?? '')
    const tampered = await browser.send('/')
    expect(visitsIn(tampered.body)).toBe(0)
    expect(tampered.operations).toEqual([])
    expect(tampered.setCookie).toEqual([]) // a Server Component never sets cookies
  })

  it('reads the store once per render however many Server Components ask, and offers no way to write', async () => {
    const browser = new Browser()
    await browser.send('/api/visits')
    const page = await browser.send('/fixtures/read-only')
    expect(page.status).toBe(200)
    expect(page.body.match(/id="visits">1</g)).toHaveLength(2)
    expect(page.operations).toEqual(['GetItem'])
    expect(page.setCookie).toEqual([])
    expect(/id="shape">([^<]*)</.exec(page.body)?.[1]).toBe('get,has,all,getUser frozen')
  })

  it('saves a Server Action once, sets the new cookie, and the page rendered after it reads it', async () => {
    const browser = new Browser()
    const [countVisit] = await actionIds('/', browser)
    expect(countVisit).toBeDefined()
    const first = await browser.submit('/', countVisit as string)
    expect(first.status).toBe(200)
    expect(first.operations).toEqual(['PutItem', 'GetItem']) // the action's write, then the page's read
    expect(first.setCookie).toHaveLength(1)
    expect(first.setCookie[0]).toMatch(/^sid=[\w-]{43}\.[\w-]{43};/)
    expect(attributesOf(first.setCookie[0])).toEqual(SESSION_ATTRIBUTES) // carried through cookies().set()
    expect(visitsIn(first.body)).toBe(1)
    const second = await browser.submit('/', countVisit as string)
    expect(second.operations).toEqual(['GetItem', 'UpdateItem', 'GetItem'])
    expect(second.setCookie).toEqual([]) // data changed, cookie did not
    expect(visitsIn(second.body)).toBe(2)
  })

  it('keeps the new cookie on the 303 after a log-in action that calls redirect(), and logs out', async () => {
    const browser = new Browser()
    await browser.send('/api/visits')
    const before = browser.cookie
    const [, logIn] = await actionIds('/', browser)
    const login = await browser.submit('/', logIn as string, { name: 'Grace' })
    expect(login.status).toBe(303)
    expect(login.location).toBe('/')
    expect(browser.cookie).toBeDefined()
    expect(browser.cookie).not.toBe(before)
    const home = await browser.send('/')
    expect(userIn(home.body)).toBe('Grace')
    expect(visitsIn(home.body)).toBe(1)

    const [, logOut] = await actionIds('/', browser)
    expect(logOut).not.toBe(logIn) // the page now shows the log-out form
    const logout = await browser.submit('/', logOut as string)
    expect(logout.status).toBe(303)
    expect(logout.setCookie[0]).toMatch(/^sid=;/)
    expect(attributesOf(logout.setCookie[0])).toEqual(EXPIRED_ATTRIBUTES)
    expect(browser.cookie).toBeUndefined()
    expect(userIn((await browser.send('/')).body)).toBe('')
  })

  it('saves a Server Action that the client router calls (Next-Action header), the cookie on its RSC answer', async () => {
    const browser = new Browser()
    const [countVisit, logIn] = await actionIds('/', browser)
    /** What Next's client router sends for an action: its id in a header, the arguments in the body. */
    const call = (action: string, body: BodyInit) =>
      browser.send('/', {
        method: 'POST',
        body,
        headers: { 'next-action': action, accept: 'text/x-component', origin },
      })
    const counted = await call(countVisit as string, '[]')
    expect(counted.status).toBe(200)
    expect(counted.setCookie).toHaveLength(1)
    expect(attributesOf(counted.setCookie[0])).toEqual(SESSION_ATTRIBUTES)
    expect(counted.operations).toEqual(['PutItem', 'GetItem']) // the action's write, the refreshed page's read
    expect(visitsIn((await browser.send('/')).body)).toBe(1)

    // Logged in (through the form), then logged out by the client router: redirect() becomes a
    // 200 whose x-action-redirect header sends the router to '/'.
    await browser.submit('/', logIn as string, { name: 'Ada' })
    const [, logOut] = await actionIds('/', browser)
    const loggedOut = await call(logOut as string, '[]')
    expect(loggedOut.status).toBe(200)
    expect(loggedOut.actionRedirect).toBe('/;push')
    expect(loggedOut.setCookie).toHaveLength(1)
    expect(attributesOf(loggedOut.setCookie[0])).toEqual(EXPIRED_ATTRIBUTES)
    expect(loggedOut.operations).toContain('DeleteItem')
    expect(browser.cookie).toBeUndefined()
  })

  it('saves nothing and sets no cookie when a Server Action throws', async () => {
    const browser = new Browser()
    await browser.send('/api/visits')
    const [failAfterChange] = await actionIds('/fixtures', browser)
    const failed = await browser.submit('/fixtures', failAfterChange as string)
    expect(failed.status).toBe(500)
    expect(failed.setCookie).toEqual([])
    expect(failed.operations).toEqual(['GetItem'])
    expect(await browser.json('/api/me')).toEqual({ user: null, visits: 1 })
  })
})

describe('a Route Handler on the Edge runtime', () => {
  it('counts visits with the AWS SDK on the Edge runtime, sharing the session with Node routes', async () => {
    const browser = new Browser()
    const first = await browser.json('/api/edge/visits')
    expect(first).toEqual({ visits: 1, runtime: 'edge' })
    expect(await browser.json('/api/edge/visits')).toEqual({ visits: 2, runtime: 'edge' })
    expect(await browser.json('/api/visits')).toEqual({ visits: 3 })
  })
})
