// The Astro adapter through Astro itself: examples/astro, built once in server output mode with
// @astrojs/node (standalone), served by its own entry.mjs over HTTP, against DynamoDB Local behind
// a proxy that counts every DynamoDB call.
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  browser,
  freePort,
  productionEnvironment,
  type RunningServer,
  runBuild,
  startServer,
} from '../support/built-app.ts'
import { builtAppSessionChecks, operationsOf, visitsOn } from '../support/built-app-session.ts'
import { uniqueTableName } from '../support/dynamodb.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { SECRET } from '../support/harness.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const example = `${root}examples/astro`
const buildDir = `${root}.cache/astro-build`
const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem']

let proxy: Awaited<ReturnType<typeof startFaultProxy>>
let server: RunningServer
let base = ''
let buildOutput = ''
const tableName = uniqueTableName('astro')

beforeAll(async () => {
  const build = await runBuild(`${root}node_modules/.bin/astro`, ['build'], {
    cwd: example,
    env: productionEnvironment({ BUILD_DIR: buildDir, ASTRO_TELEMETRY_DISABLED: '1' }),
  })
  buildOutput = build.output
  console.log(`Astro example built in ${build.seconds.toFixed(1)} s`)
  proxy = await startFaultProxy(inject('dynamodbEndpoint'))
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = await startServer(`${buildDir}/server/entry.mjs`, {
    url: base,
    ready: /Server listening on/,
    env: productionEnvironment({
      HOST: '127.0.0.1',
      PORT: String(port),
      DYNAMODB_ENDPOINT: proxy.endpoint,
      SESSION_TABLE: tableName,
      SESSION_SECRET: SECRET,
    }),
  })
  proxy.clear() // the table made at startup is not a request's call
}, 180_000)

afterAll(async () => {
  await server?.stop()
  await proxy?.close()
})

describe('the Astro middleware, in a built Astro app', () => {
  builtAppSessionChecks(() => ({ base, proxy, tableName }), {
    carrier: 'Astro.locals.session in a page',
    route: 'an endpoint',
  })

  it('keeps the new session cookie on the redirect after a login form action, and logs out', async () => {
    const client = browser(base)
    await client.fetch('/')
    const before = client.session
    const login = await client.post('/?_action=login', { name: 'Ada' })
    expect(login.status).toBe(303)
    expect(login.response.headers.get('location')).toBe('/')
    // regenerate() in the action: a new id on the page's redirect, so the browser keeps the login.
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

    const logout = await client.post('/?_action=logout')
    expect(logout.status).toBe(303)
    expect(logout.session).toBeDefined() // a new session that carries the notice
    const after = await client.fetch('/')
    expect(after.body).toContain('You are logged out.')
    expect(after.body).not.toContain('id="user"')
  })

  it('keeps the new session cookie when client code calls the login action (RPC)', async () => {
    const client = browser(base)
    await client.fetch('/')
    const before = client.session
    const login = await client.post('/_actions/login', { name: 'Grace' }, { accept: 'application/json' })
    expect(login.status).toBe(200)
    expect(login.body).toContain('Grace')
    expect(login.session?.split('.')[0]).not.toBe(before?.split('.')[0])
    expect((await client.fetch('/')).body).toContain('id="user">Grace<')
  })

  it('changes nothing in the session when the login action rejects its input', async () => {
    const client = browser(base)
    await client.fetch('/')
    const cookie = client.session
    const { result, operations } = await operationsOf(proxy, () =>
      client.post('/?_action=login', { name: ' ' }),
    )
    expect(result.body).toContain('Please enter a name.')
    // The page itself counted the visit after the action: one read, one update, same cookie.
    expect(operations).toEqual(['GetItem', 'UpdateItem'])
    expect(client.session).toBe(cookie)
  })

  it("keeps the endpoint's own cookie, set with Astro.cookies, next to the session cookie", async () => {
    const client = browser(base)
    const themed = await client.post('/theme?value=dark')
    expect(themed.status).toBe(204)
    expect(themed.setCookies.some((line) => line.startsWith('theme=dark;'))).toBe(true)
    expect(themed.session).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
    expect(themed.setCookies).toHaveLength(2)
  })

  it('saves nothing and sends no session cookie when the endpoint fails with a 500', async () => {
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

  it('gives a prerendered page no session: no header read at build time, no DynamoDB call when served', async () => {
    expect(buildOutput).toContain('/about/index.html')
    expect(buildOutput).not.toContain('Astro.request.headers')
    const client = browser(base)
    await client.fetch('/')
    const { result, operations } = await operationsOf(proxy, () => client.fetch('/about'))
    expect(result.status).toBe(200)
    expect(result.body).toContain('A static page')
    expect(result.setCookies).toEqual([])
    expect(operations).toEqual([])
  })

  it('type-checks the example, App.Locals declaration included, against the adapter (tsc)', async () => {
    // The root tsconfig leaves the example out: it is typed here with the .astro/ types that the build generated.
    const check = await runBuild(
      `${root}node_modules/.bin/tsc`,
      ['-p', `${example}/tsconfig.json`, '--noEmit'],
      {
        cwd: example,
        env: process.env,
      },
    )
    expect(check.output).toBe('')
  })

  it('answers 503 with no cookie when DynamoDB fails while a page reads the session', async () => {
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
})
