// The session checks that every built example app (SvelteKit, Astro) passes through its own
// server, in its framework's words: each app serves a page at / that counts visits
// (`id="visits"`) and greets a logged-in user (`id="user"`) with a flash, login and logout form
// actions, the session as JSON at /visits, `ok` at /health (which never uses it), a theme cookie
// of its own at POST /theme, and a handler failing with a 500 at POST /demo/error.
import { expect, it } from 'vitest'
import { hashSessionId } from '../../src/core/crypto.ts'
import { browser, type RunningServer, runBuild } from './built-app.ts'
import { localClient, scanAll } from './dynamodb.ts'
import type { startFaultProxy } from './fault-proxy.ts'

type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>

/**
 * A built app as its test started it: where it listens, its server, the proxy it reaches DynamoDB
 * through, its table, and the example's folder.
 */
export interface BuiltSessionApp {
  base: string
  server: RunningServer
  proxy: FaultProxy
  tableName: string
  example: string
}

/** How the framework says things, for the test names, and its form actions' paths. */
export interface FrameworkWords {
  /** Where a handler finds the session: 'locals.session in a load function'. */
  carrier: string
  /** What the framework calls a route: 'a route', 'an endpoint'. */
  route: string
  /** What the framework calls the code behind a route: 'the handler', 'the endpoint'. */
  handler: string
  /** How that code sets a cookie of its own: 'event.cookies'. */
  cookies: string
  /** The end of the name of the failed-load test: ' while a page reads the session'. */
  whenLoadFails: string
  /** The form actions' paths: '/?/login', '/?/logout'. */
  actions: { login: string; logout: string }
}

const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem']

/** The DynamoDB operations that `visit` caused, e.g. ['GetItem']. */
export async function operationsOf<T>(
  proxy: FaultProxy,
  visit: () => Promise<T>,
): Promise<{ result: T; operations: string[] }> {
  proxy.clear()
  const result = await visit()
  return { result, operations: [...proxy.operations] }
}

export const visitsOn = (html: string) => /id="visits">(\d+)</.exec(html)?.[1]

/** Registers the checks; `app` is read when they run. */
export function builtAppSessionChecks(app: () => BuiltSessionApp, words: FrameworkWords) {
  it(`keeps a session across requests through ${words.carrier}`, async () => {
    const { base } = app()
    const client = browser(base)
    const first = await client.fetch('/')
    expect(first.status).toBe(200)
    expect(visitsOn(first.body)).toBe('1')
    const header = first.setCookies.find((line) => line.startsWith('sid='))
    expect(header).toMatch(/^sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; /)
    expect(header).toMatch(/HttpOnly/i)
    expect(header).toMatch(/SameSite=Lax/i)
    expect(header).toMatch(/; Secure/i) // the built app, as deployed
    expect(visitsOn((await client.fetch('/')).body)).toBe('2')
    expect(JSON.parse((await client.fetch('/visits')).body)).toEqual({ visits: 2, user: null })
    // Another browser starts over.
    expect(visitsOn((await browser(base).fetch('/')).body)).toBe('1')
  })

  it('stores the session under the SHA-256 of its id, never the id itself', async () => {
    const { base, tableName } = app()
    const client = browser(base)
    await client.fetch('/')
    const id = client.session?.split('.')[0] ?? ''
    const keys = (await scanAll(localClient(), tableName)).map((item) => item.session_id?.S)
    expect(keys).toContain(await hashSessionId(id))
    expect(keys).not.toContain(id)
  })

  it(`makes no DynamoDB call and sends no Set-Cookie on ${words.route} that never uses the session`, async () => {
    const { base, proxy } = app()
    const client = browser(base)
    await client.fetch('/')
    const { result, operations } = await operationsOf(proxy, () => client.fetch('/health'))
    expect(result.body).toBe('ok')
    expect(result.setCookies).toEqual([])
    expect(operations).toEqual([])
  })

  it(`reads once, writes nothing and sends no Set-Cookie when ${words.route} only reads the session`, async () => {
    const { base, proxy } = app()
    const client = browser(base)
    await client.fetch('/')
    const { result, operations } = await operationsOf(proxy, () => client.fetch('/visits'))
    expect(JSON.parse(result.body)).toEqual({ visits: 1, user: null })
    expect(result.setCookies).toEqual([])
    expect(operations).toEqual(['GetItem'])
  })

  it('never reads the store for a cookie with a bad signature, and starts a new session', async () => {
    const { base, proxy } = app()
    const client = browser(base)
    await client.fetch('/')
    await client.fetch('/')
    const [id] = (client.session ?? '').split('.')
    const attacker = browser(base)
    attacker.cookies.set('sid', `${id}.${'A'.repeat(43)}`)
    const read = await operationsOf(proxy, () => attacker.fetch('/visits'))
    expect(JSON.parse(read.result.body)).toEqual({ visits: 0, user: null })
    expect(read.operations).toEqual([])
    const page = await operationsOf(proxy, () => attacker.fetch('/'))
    expect(visitsOn(page.result.body)).toBe('1')
    expect(page.operations).toEqual(['PutItem']) // a new session, no GetItem
    expect(page.result.session).toBeDefined()
    expect(page.result.session?.split('.')[0]).not.toBe(id)
  })

  it('keeps the new session cookie on the redirect after a login form action, and logs out', async () => {
    const { base } = app()
    const client = browser(base)
    await client.fetch('/')
    const before = client.session
    const login = await client.post(words.actions.login, { name: 'Ada' })
    expect(login.status).toBe(303)
    expect(login.response.headers.get('location')).toBe('/')
    // regenerate() in the action: a new id on the redirect itself, so the browser keeps the login.
    expect(login.session).toBeDefined()
    expect(login.session?.split('.')[0]).not.toBe(before?.split('.')[0])
    const home = await client.fetch('/')
    expect(home.body).toContain('id="user">Ada<')
    expect(home.body).toContain('Welcome, Ada!')
    expect(visitsOn(home.body)).toBe('2') // the data moved to the new id
    expect((await client.fetch('/')).body).not.toContain('Welcome, Ada!') // a flash shows once

    // The id from before the login is worthless now.
    const planted = browser(base)
    planted.cookies.set('sid', before ?? '')
    expect(JSON.parse((await planted.fetch('/visits')).body)).toEqual({ visits: 0, user: null })

    const logout = await client.post(words.actions.logout)
    expect(logout.status).toBe(303)
    expect(logout.session).toBeDefined() // a new session that carries the notice
    const after = await client.fetch('/')
    expect(after.body).toContain('You are logged out.')
    expect(after.body).not.toContain('id="user"')
  })

  it(`keeps ${words.handler}'s own cookie, set with ${words.cookies}, next to the session cookie`, async () => {
    const client = browser(app().base)
    const themed = await client.post('/theme?value=dark')
    expect(themed.status).toBe(204)
    expect(themed.setCookies.some((line) => line.startsWith('theme=dark;'))).toBe(true)
    expect(themed.session).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
    expect(themed.setCookies).toHaveLength(2)
  })

  it(`saves nothing and sends no session cookie when ${words.handler} fails with a 500`, async () => {
    const { base, proxy } = app()
    const client = browser(base)
    await client.fetch('/')
    const cookie = client.session
    const { result, operations } = await operationsOf(proxy, () => client.post('/demo/error'))
    expect(result.status).toBe(500)
    expect(result.setCookies).toEqual([])
    expect(operations.filter((operation) => WRITES.includes(operation))).toEqual([])
    expect(client.session).toBe(cookie)
    expect(JSON.parse((await client.fetch('/visits')).body).visits).toBe(1)

    // A new visitor's failed request creates no session at all.
    const fresh = await operationsOf(proxy, () => browser(base).post('/demo/error'))
    expect(fresh.result.status).toBe(500)
    expect(fresh.result.setCookies).toEqual([])
    expect(fresh.operations).toEqual([])
  })

  it('type-checks the example, App.Locals declaration included, against the adapter (tsc)', async () => {
    // The root tsconfig leaves the example out: it is typed here with the types its build generated.
    const { example } = app()
    const tsc = new URL('../../node_modules/.bin/tsc', import.meta.url).pathname
    const check = await runBuild(tsc, ['-p', `${example}/tsconfig.json`, '--noEmit'], {
      cwd: example,
      env: process.env,
    })
    expect(check.output).toBe('')
  })

  it(`answers 503 with no cookie when DynamoDB fails${words.whenLoadFails}`, async () => {
    const { base, proxy, server } = app()
    const client = browser(base)
    await client.fetch('/')
    proxy.inject({ kind: 'server-error' }, { times: 10, operation: 'GetItem' })
    try {
      const failed = await client.fetch('/')
      expect(failed.status).toBe(503)
      expect(failed.body).toBe('Service Unavailable')
      expect(failed.setCookies).toEqual([])
      expect(server.output()).toContain('STORE_UNAVAILABLE')
    } finally {
      proxy.clear()
    }
  })
}
