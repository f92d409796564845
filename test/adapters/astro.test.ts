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
import { builtAppSessionChecks, operationsOf } from '../support/built-app-session.ts'
import { uniqueTableName } from '../support/dynamodb.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { SECRET } from '../support/harness.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const example = `${root}examples/astro`
const buildDir = `${root}.cache/astro-build`

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
  builtAppSessionChecks(() => ({ base, server, proxy, tableName, example }), {
    carrier: 'Astro.locals.session in a page',
    route: 'an endpoint',
    handler: 'the endpoint',
    cookies: 'Astro.cookies',
    whenLoadFails: ' while a page reads the session',
    actions: { login: '/?_action=login', logout: '/?_action=logout' },
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
})
