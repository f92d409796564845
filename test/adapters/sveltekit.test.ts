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
import { builtAppSessionChecks, operationsOf } from '../support/built-app-session.ts'
import { uniqueTableName } from '../support/dynamodb.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { SECRET } from '../support/harness.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const example = `${root}examples/sveltekit`
const buildDir = `${root}.cache/sveltekit-build`

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
  builtAppSessionChecks(() => ({ base, server, proxy, tableName, example }), {
    carrier: 'locals.session in a load function',
    route: 'a route',
    handler: 'the handler',
    cookies: 'event.cookies',
    whenLoadFails: ', though SvelteKit renders the load error itself',
    actions: { login: '/?/login', logout: '/?/logout' },
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
})
