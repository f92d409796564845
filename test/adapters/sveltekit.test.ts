// The SvelteKit adapter through SvelteKit itself: examples/sveltekit, built once with
// @sveltejs/adapter-node, served by its own `node build` server over HTTP, against DynamoDB Local
// behind a proxy that counts every DynamoDB call.
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
const example = `${root}examples/sveltekit`
const buildDir = `${root}.cache/sveltekit-build`
const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem']

let proxy: Awaited<ReturnType<typeof startFaultProxy>>
let server: RunningServer
let base = ''
const tableName = uniqueTableName('sveltekit')

beforeAll(async () => {
  const build = await runBuild(`${root}node_modules/.bin/vite`, ['build'], {
    cwd: example,
    env: productionEnvironment({ BUILD_DIR: buildDir }),
  })
  console.log(`SvelteKit example built in ${build.seconds.toFixed(1)} s`)
  proxy = await startFaultProxy(inject('dynamodbEndpoint'))
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  server = await startServer(`${buildDir}/index.js`, {
    url: base,
    ready: /Listening on/,
    env: productionEnvironment({
      HOST: '127.0.0.1',
      PORT: String(port),
      ORIGIN: base,
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

describe('the SvelteKit handle, in a built SvelteKit app', () => {
  builtAppSessionChecks(() => ({ base, proxy, tableName }), {
    carrier: 'locals.session in a load function',
    route: 'a route',
  })

  it('keeps the new session cookie on the redirect after a login form action, and logs out', async () => {
    const client = browser(base)
    await client.fetch('/')
    const before = client.session
    const login = await client.post('/?/login', { name: 'Ada' })
    expect(login.status).toBe(303)
    expect(login.response.headers.get('location')).toBe('/')
    // regenerate(): a new id on the redirect itself, so the browser keeps the login.
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

    const logout = await client.post('/?/logout')
    expect(logout.status).toBe(303)
    expect(logout.session).toBeDefined() // a new session that carries the notice
    const after = await client.fetch('/')
    expect(after.body).toContain('You are logged out.')
    expect(after.body).not.toContain('id="user"')
  })

  it('keeps the new session cookie when use:enhance posts the login and gets the redirect as JSON', async () => {
    const client = browser(base)
    await client.fetch('/')
    const before = client.session
    // What use:enhance sends: the form by fetch, asking for JSON; SvelteKit answers the redirect as data.
    const login = await client.post('/?/login', { name: 'Grace' }, { accept: 'application/json' })
    expect(login.status).toBe(200)
    expect(JSON.parse(login.body)).toMatchObject({ type: 'redirect', status: 303, location: '/' })
    expect(login.session?.split('.')[0]).not.toBe(before?.split('.')[0])
    expect((await client.fetch('/')).body).toContain('id="user">Grace<')
  })

  it('answers a login form without a name with 400 and changes nothing', async () => {
    const client = browser(base)
    await client.fetch('/')
    const { result, operations } = await operationsOf(proxy, () => client.post('/?/login', { name: ' ' }))
    expect(result.status).toBe(400)
    expect(result.body).toContain('Please enter a name.')
    // The page itself counted the visit after the action: one read, one write, same cookie.
    expect(operations.filter((operation) => operation !== 'GetItem')).toEqual(['UpdateItem'])
  })

  it("keeps the handler's own cookie, set with event.cookies, next to the session cookie", async () => {
    const client = browser(base)
    const themed = await client.post('/theme?value=dark')
    expect(themed.status).toBe(204)
    expect(themed.setCookies.some((line) => line.startsWith('theme=dark;'))).toBe(true)
    expect(themed.session).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
    expect(themed.setCookies).toHaveLength(2)
  })

  it('saves nothing and sends no session cookie when the handler fails with a 500', async () => {
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
    // The root tsconfig leaves the example out: it is typed here with the .svelte-kit/ types that the build generated.
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

  it('answers 503 with no cookie when DynamoDB fails, though SvelteKit renders the load error itself', async () => {
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
