// The Lambda example, invoked with AWS's documented event payloads (API Gateway REST payload 1.0
// with multiValueHeaders, HTTP API 2.0 with a cookies array, a function URL event, base64 bodies)
// through hono/aws-lambda's handle(), against DynamoDB Local, with a cookie jar.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { handle } from 'hono/aws-lambda'
import { beforeAll, describe, expect, inject, it, vi } from 'vitest'
import { createApp } from '../../examples/lambda/app.ts'
import { createFetchHandler, lambdaHandler } from '../../examples/lambda/fetch-app.ts'
import { MemoryStore, type SessionError, type SessionOptions, type SessionRecord } from '../../src/index.ts'
import { CookieJar } from '../support/cookie-jar.ts'
import { type CallCounter, scanAll } from '../support/dynamodb.ts'
import { dynamoStore, SECRET } from '../support/harness.ts'

const events = new URL('../../examples/lambda/events/', import.meta.url)
const sample = (file: string) => JSON.parse(readFileSync(new URL(file, events), 'utf8'))

type Payload = 'REST API (1.0)' | 'HTTP API (2.0)' | 'function URL'
type LambdaResult = {
  statusCode: number
  body: string
  isBase64Encoded: boolean
  headers?: Record<string, string>
  multiValueHeaders?: Record<string, string[]>
  cookies?: string[]
}
type Invoke = (event: never) => Promise<unknown>

interface Call {
  method?: string
  path: string
  /** The Cookie header's cookies; sent as a 1.0 multiValueHeaders entry or a 2.0 cookies array. */
  cookies?: string[]
  /** Sent base64-encoded, as API Gateway does for a binary or form body. */
  form?: Record<string, string>
}

/** An event of `payload`'s documented shape for one request. */
function eventFor(payload: Payload, { method = 'GET', path, cookies = [], form }: Call) {
  const body = form ? btoa(new URLSearchParams(form).toString()) : null
  const contentType = form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}
  if (payload === 'REST API (1.0)') {
    const event = sample('api-gateway-rest-v1.json')
    const cookie = cookies.length > 0 ? { cookie: cookies.join('; ') } : {}
    return {
      ...event,
      httpMethod: method,
      path,
      resource: '/{proxy+}',
      headers: { ...event.headers, ...contentType, ...cookie },
      multiValueHeaders: {
        ...event.multiValueHeaders,
        ...(form ? { 'content-type': [contentType['content-type']] } : {}),
        ...(cookies.length > 0 ? { cookie: [cookies.join('; ')] } : {}),
      },
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      requestContext: { ...event.requestContext, httpMethod: method, path },
      body,
      isBase64Encoded: form !== undefined,
    }
  }
  const event = sample(payload === 'HTTP API (2.0)' ? 'http-api-v2.json' : 'function-url.json')
  return {
    ...event,
    rawPath: path,
    rawQueryString: '',
    queryStringParameters: undefined,
    // The documented sample's own cookies stay beside the jar's: several cookies in.
    cookies: [...event.cookies, ...cookies],
    headers: { ...event.headers, ...contentType },
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method, path } },
    body,
    isBase64Encoded: form !== undefined,
  }
}

/** The Set-Cookie values of a result, wherever its payload version puts them. */
function setCookiesOf(result: LambdaResult): string[] {
  return result.cookies ?? result.multiValueHeaders?.['set-cookie'] ?? []
}

/** A browser for one Lambda handler and payload version: a cookie jar between invocations. */
function client(invoke: Invoke, payload: Payload) {
  const jar = new CookieJar()
  return {
    jar,
    async send(call: Call) {
      const cookies = jar.header()?.split('; ') ?? []
      const result = (await invoke(eventFor(payload, { ...call, cookies }) as never)) as LambdaResult
      const setCookies = setCookiesOf(result)
      jar.take(setCookies)
      const body = result.isBase64Encoded ? atob(result.body) : result.body
      return { status: result.statusCode, body, json: () => JSON.parse(body), setCookies, result }
    },
  }
}

const payloads: Payload[] = ['REST API (1.0)', 'HTTP API (2.0)', 'function URL']

describe.each(payloads)('the Hono Lambda handler, %s events', (payload) => {
  let invoke: Invoke
  let calls: CallCounter
  let tableClient: Awaited<ReturnType<typeof dynamoStore>>

  beforeAll(async () => {
    tableClient = await dynamoStore()
    calls = tableClient.counter
    invoke = handle(createApp({ secretKey: SECRET, store: tableClient.store })) as Invoke
  })

  it('walks a counter with a cookie jar: 1, 2, 3', async () => {
    const browser = client(invoke, payload)
    const first = await browser.send({ method: 'POST', path: '/count' })
    expect(first.status).toBe(200)
    expect(first.json()).toEqual({ count: 1 })
    expect(first.setCookies).toHaveLength(1)
    expect(first.setCookies[0]).toMatch(
      /^sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    expect((await browser.send({ method: 'POST', path: '/count' })).json()).toEqual({ count: 2 })
    expect((await browser.send({ method: 'POST', path: '/count' })).json()).toEqual({ count: 3 })
    expect((await browser.send({ path: '/' })).json()).toMatchObject({ count: 3 })
  })

  it('logs in from a base64 form body under a new id, and logs out with a flash', async () => {
    const browser = client(invoke, payload)
    await browser.send({ method: 'POST', path: '/count' })
    const before = browser.jar.get('sid')
    const login = await browser.send({ method: 'POST', path: '/login', form: { user: 'ann' } })
    expect(login.status).toBe(200)
    expect(login.json()).toEqual({ user: 'ann' })
    const after = browser.jar.get('sid')
    expect(after).not.toBe(before) // regenerate(): a new id
    expect((await browser.send({ path: '/' })).json()).toEqual({ count: 1, user: 'ann', message: null })

    const logout = await browser.send({ method: 'POST', path: '/logout' })
    expect(logout.status).toBe(303)
    expect((await browser.send({ path: '/' })).json()).toEqual({
      count: 0,
      user: null,
      message: 'Logged out',
    })
    expect((await browser.send({ path: '/' })).json()).toEqual({ count: 0, user: null, message: null })

    // Neither the pre-login nor the logged-out cookie finds a session any more.
    for (const stale of [before, after]) {
      const replay = client(invoke, payload)
      replay.jar.set('sid', stale as string)
      expect((await replay.send({ path: '/' })).json()).toEqual({ count: 0, user: null, message: null })
    }
  })

  it("returns the handler's own Set-Cookie and the session's, both", async () => {
    const browser = client(invoke, payload)
    const themed = await browser.send({ method: 'POST', path: '/theme' })
    expect(themed.status).toBe(204)
    expect(themed.setCookies).toHaveLength(2)
    expect(themed.setCookies.some((line) => line.startsWith('theme=dark;'))).toBe(true)
    expect(themed.setCookies.some((line) => line.startsWith('sid='))).toBe(true)
    expect(browser.jar.get('theme')).toBe('dark')
    expect((await browser.send({ path: '/' })).json()).toMatchObject({ message: 'Theme saved' })
  })

  it('makes no DynamoDB call and sends no Set-Cookie for a route that never touches the session', async () => {
    const browser = client(invoke, payload)
    await browser.send({ method: 'POST', path: '/count' })
    calls.reset()
    const health = await browser.send({ path: '/health' })
    expect(health.body).toBe('ok')
    expect(health.setCookies).toEqual([])
    expect(calls.count()).toBe(0)
  })

  it('never reads the table for a cookie with a bad signature', async () => {
    const browser = client(invoke, payload)
    await browser.send({ method: 'POST', path: '/count' })
    const good = browser.jar.get('sid') as string
    browser.jar.set('sid', `${good.slice(0, 44)}${'A'.repeat(43)}`)
    calls.reset()
    expect((await browser.send({ method: 'POST', path: '/count' })).json()).toEqual({ count: 1 })
    expect(calls.count('GetItemCommand')).toBe(0)
  })

  it('keeps ids hashed at rest', async () => {
    const browser = client(invoke, payload)
    await browser.send({ method: 'POST', path: '/count' })
    const id = (browser.jar.get('sid') ?? '').split('.')[0] as string
    expect(JSON.stringify(await scanAll(tableClient.client, tableClient.tableName))).not.toContain(id)
  })
})

describe.each(payloads)('a plain fetch handler on Lambda, %s events', (payload) => {
  let invoke: Invoke

  beforeAll(async () => {
    const { store } = await dynamoStore()
    invoke = lambdaHandler(createFetchHandler({ secretKey: SECRET, store })) as Invoke
  })

  it('walks a counter with a cookie jar, the session cookie among the sample cookies', async () => {
    const browser = client(invoke, payload)
    expect((await browser.send({ method: 'POST', path: '/count' })).json()).toEqual({ count: 1 })
    expect((await browser.send({ method: 'POST', path: '/count' })).json()).toEqual({ count: 2 })
    const third = await browser.send({ method: 'POST', path: '/count' })
    expect(third.json()).toEqual({ count: 3 })
    expect(third.setCookies).toEqual([]) // an unchanged cookie is not sent again
    expect((await client(invoke, payload).send({ method: 'POST', path: '/count' })).json()).toEqual({
      count: 1,
    })
  })
})

/** Only to inject the faults: loads or writes fail as an unreachable store would. */
class FailingStore extends MemoryStore {
  failLoads = false
  override async load(key: string): Promise<SessionRecord | undefined> {
    if (this.failLoads) throw new Error('store is down')
    return super.load(key)
  }
  override async update(..._args: Parameters<MemoryStore['update']>): Promise<boolean> {
    throw new Error('store is down')
  }
}

describe('the Lambda handler when the store fails, or the handler does', () => {
  const payload: Payload = 'HTTP API (2.0)'

  const handlerWith = (store: MemoryStore, options: Partial<SessionOptions> = {}) =>
    handle(createApp({ secretKey: SECRET, store, ...options })) as Invoke

  it('answers the default 503 with no Set-Cookie when loading fails', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const store = new FailingStore()
      const browser = client(handlerWith(store), payload)
      await browser.send({ method: 'POST', path: '/count' })
      store.failLoads = true
      const failed = await browser.send({ method: 'POST', path: '/count' })
      expect(failed.status).toBe(503)
      expect(failed.setCookies).toEqual([])
    } finally {
      errors.mockRestore()
    }
  })

  it('honours a custom onError for a failed save, told the phase: its 502, no Set-Cookie', async () => {
    const phases: string[] = []
    const store = new FailingStore()
    const invoke = handlerWith(store, {
      onError: (error: SessionError, _request, phase) => {
        phases.push(`${error.code}:${phase}`)
        return new Response('bad gateway', { status: 502 })
      },
    })
    const browser = client(invoke, payload)
    await browser.send({ method: 'POST', path: '/count' }) // created: no update yet
    const failed = await browser.send({ method: 'POST', path: '/count' })
    expect(failed.status).toBe(502)
    expect(failed.body).toBe('bad gateway')
    expect(failed.setCookies).toEqual([])
    expect(phases).toEqual(['STORE_UNAVAILABLE:save'])
  })

  it('saves nothing and sends no session cookie when the handler fails (500)', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const { store, counter } = await dynamoStore()
      const app = createApp({ secretKey: SECRET, store })
      app.post('/fail', async (c) => {
        await c.get('session').set('count', 99)
        throw new Error('handler failed after changing the session')
      })
      const browser = client(handle(app) as Invoke, payload)
      await browser.send({ method: 'POST', path: '/count' })
      counter.reset()
      const failed = await browser.send({ method: 'POST', path: '/fail' })
      expect(failed.status).toBe(500)
      expect(failed.setCookies).toEqual([])
      expect(counter.count('UpdateItemCommand') + counter.count('PutItemCommand')).toBe(0)
      expect((await browser.send({ path: '/' })).json()).toMatchObject({ count: 1 })
    } finally {
      errors.mockRestore()
    }
  })
})

describe('the deployable bundle (npm run example:lambda:build)', () => {
  it('bundles handler.ts into one ESM file whose handler serves a documented event', async () => {
    const outfile = fileURLToPath(
      new URL(`../../.cache/lambda-test-${process.pid}/index.mjs`, import.meta.url),
    )
    await build({
      entryPoints: [fileURLToPath(new URL('../../examples/lambda/handler.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      outfile,
      logLevel: 'silent',
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    })
    const { tableName } = await dynamoStore()
    vi.stubEnv('SESSION_TABLE', tableName)
    vi.stubEnv('SESSION_SECRET', SECRET)
    vi.stubEnv('DYNAMODB_ENDPOINT', inject('dynamodbEndpoint'))
    vi.stubEnv('AWS_REGION', 'us-east-1')
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local')
    try {
      const { handler } = await import(outfile)
      const browser = client(handler, 'HTTP API (2.0)')
      expect((await browser.send({ method: 'POST', path: '/count' })).json()).toEqual({ count: 1 })
      expect((await browser.send({ method: 'POST', path: '/count' })).json()).toEqual({ count: 2 })
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
