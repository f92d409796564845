// The Elysia plugin on Bun, through Elysia's own request handling: the example app (plus a few
// test routes, test/adapters/elysia-on-bun.ts) runs in a Bun process against DynamoDB Local
// behind a counting proxy, and every case runs twice: over real HTTP (app.listen) and through
// app.handle(new Request(...)).
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createSessionTable, localClient, uniqueTableName } from '../support/dynamodb.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { SECRET, sessionCookie } from '../support/harness.ts'
import type { HandledResponse } from './elysia-on-bun.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
let proxy: Awaited<ReturnType<typeof startFaultProxy>>
let bun: ChildProcess | undefined
const origins = { http: '', handle: '' }

beforeAll(async () => {
  proxy = await startFaultProxy(inject('dynamodbEndpoint'))
  const tableName = await createSessionTable(localClient(), uniqueTableName('elysia'))
  const env = {
    ...process.env,
    DYNAMODB_ENDPOINT: proxy.endpoint,
    SESSION_TABLE: tableName,
    SESSION_SECRET: SECRET,
    NO_COLOR: '1',
  }
  const child = spawn(`${root}node_modules/.bin/bun`, ['test/adapters/elysia-on-bun.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  bun = child
  const started = await new Promise<typeof origins>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`Bun did not start in 30 s:\n${output}`)), 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const line = output.split('\n').find((text) => text.startsWith('{"http"'))
      if (line) {
        clearTimeout(timer)
        resolve(JSON.parse(line) as typeof origins)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Bun exited (${code}) before it listened:\n${output}`))
    })
  })
  Object.assign(origins, started)
}, 60_000)

afterAll(async () => {
  if (bun && bun.exitCode === null) {
    const exited = new Promise((resolve) => bun?.once('exit', resolve))
    bun.kill('SIGTERM')
    await exited
  }
  await proxy?.close()
})

type Sent = HandledResponse & { operations: string[] }

/** One request over real HTTP, or replayed in Bun through app.handle; with the DynamoDB calls it caused. */
async function send(
  mode: 'http' | 'handle',
  path: string,
  init: {
    method?: string
    cookie?: string | undefined
    form?: Record<string, string>
    app?: 'hardened'
  } = {},
): Promise<Sent> {
  const headers: Record<string, string> = {}
  if (init.cookie !== undefined) headers.cookie = `sid=${init.cookie}`
  const body = init.form ? new URLSearchParams(init.form).toString() : null
  if (body !== null) headers['content-type'] = 'application/x-www-form-urlencoded'
  const method = init.method ?? 'GET'
  proxy.clear()
  let result: HandledResponse
  if (mode === 'http' && init.app === undefined) {
    const response = await fetch(`${origins.http}${path}`, { method, headers, body, redirect: 'manual' })
    result = {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      setCookie: response.headers.getSetCookie(),
      body: await response.text(),
    }
  } else {
    const response = await fetch(origins.handle, {
      method: 'POST',
      body: JSON.stringify({ method, path, headers, body, app: init.app }),
    })
    result = (await response.json()) as HandledResponse
  }
  return { ...result, operations: [...proxy.operations] }
}

/** The session cookie's value in a response, if it set one. */
function sid(response: Sent): string | undefined {
  return sessionCookie(
    new Response(null, { headers: response.setCookie.map((line) => ['set-cookie', line]) }),
  )?.value
}

describe.each(['http', 'handle'] as const)('the Elysia plugin on Bun, via %s', (mode) => {
  /** A visitor with a stored session: visits = 1, its cookie. */
  async function visitor(): Promise<string> {
    const first = await send(mode, '/')
    const cookie = sid(first)
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
    return cookie as string
  }

  it('keeps a session across requests, with an HttpOnly, SameSite=Lax cookie', async () => {
    const first = await send(mode, '/')
    expect(JSON.parse(first.body)).toEqual({ visits: 1, user: null, notice: null })
    expect(first.operations).toEqual(['PutItem']) // no cookie: nothing to read
    expect(first.setCookie).toHaveLength(1)
    expect(first.setCookie[0]).toMatch(/^sid=[\w-]{43}\.[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/)
    const cookie = sid(first)
    const second = await send(mode, '/', { cookie })
    expect(JSON.parse(second.body)).toMatchObject({ visits: 2 })
    expect(second.operations).toEqual(['GetItem', 'UpdateItem'])
    // A session cookie (no Max-Age) is not re-sent when only the data changed.
    expect(second.setCookie).toEqual([])
    expect(JSON.parse((await send(mode, '/', { cookie })).body)).toMatchObject({ visits: 3 })
  })

  it('makes no DynamoDB call and sends no Set-Cookie on a route that never uses the session', async () => {
    const cookie = await visitor()
    for (const sent of [await send(mode, '/health'), await send(mode, '/health', { cookie })]) {
      expect(sent.status).toBe(200)
      expect(sent.body).toBe('ok')
      expect(sent.operations).toEqual([])
      expect(sent.setCookie).toEqual([])
    }
  })

  it('does not read the store for a cookie with a bad signature, and expires that cookie', async () => {
    const cookie = await visitor()
    const [id, signature = ''] = cookie.split('.')
    const forged = `${id}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
    const sent = await send(mode, '/me', { cookie: forged })
    expect(JSON.parse(sent.body)).toEqual({ user: null })
    expect(sent.operations).toEqual([]) // neither read nor written
    expect(sent.setCookie).toHaveLength(1)
    const expired = sent.setCookie[0] ?? ''
    expect(expired).toMatch(/^sid=;/)
    for (const attribute of ['Max-Age=0', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'Path=/', 'HttpOnly']) {
      expect(expired).toContain(attribute)
    }
  })

  it('reads but neither writes nor sends Set-Cookie when the handler changed nothing', async () => {
    const cookie = await visitor()
    const sent = await send(mode, '/me', { cookie })
    expect(sent.status).toBe(200)
    expect(sent.operations).toEqual(['GetItem'])
    expect(sent.setCookie).toEqual([])
  })

  it('keeps the new cookie on the 303 redirect after log in, and ends the session on log out', async () => {
    const before = await visitor()
    const login = await send(mode, '/login', { method: 'POST', cookie: before, form: { name: 'Ada' } })
    expect(login.status).toBe(303)
    expect(login.headers.location).toBe('/')
    const after = sid(login)
    expect(after).toBeDefined()
    expect(after).not.toBe(before) // regenerated
    const home = JSON.parse((await send(mode, '/', { cookie: after })).body)
    expect(home).toEqual({ visits: 2, user: 'Ada', notice: 'Welcome, Ada!' })
    // The id from before log in is gone: that cookie starts over.
    expect(JSON.parse((await send(mode, '/', { cookie: before })).body)).toMatchObject({
      visits: 1,
      user: null,
    })

    const logout = await send(mode, '/logout', { method: 'POST', cookie: after })
    expect(logout.status).toBe(303)
    expect(logout.setCookie).toHaveLength(1)
    expect(logout.setCookie[0]).toMatch(/^sid=; .*Max-Age=0/)
    expect(logout.operations).toContain('DeleteItem')
    expect(JSON.parse((await send(mode, '/', { cookie: after })).body)).toMatchObject({
      visits: 1,
      user: null,
    })
  })

  it("keeps the handler's own cookies beside the session cookie", async () => {
    const jar = await send(mode, '/theme')
    expect(jar.setCookie).toHaveLength(2)
    expect(jar.setCookie).toContain('theme=dark; Path=/; HttpOnly')
    expect(sid(jar)).toBeDefined()

    const own = await send(mode, '/own-response')
    expect(own.body).toBe('own response')
    expect(own.setCookie).toHaveLength(3)
    expect(own.setCookie).toContain('own=1; Path=/')
    expect(own.setCookie).toContain('layout=wide; Path=/')
    expect(sid(own)).toBeDefined()
  })

  it('answers 503 without Set-Cookie when DynamoDB fails on load (fail closed)', async () => {
    const cookie = await visitor()
    proxy.clear()
    proxy.inject({ kind: 'server-error' }, { operation: 'GetItem', times: 1 })
    const headers = { cookie: `sid=${cookie}` }
    const response =
      mode === 'http'
        ? await fetch(`${origins.http}/`, { headers })
        : await fetch(origins.handle, {
            method: 'POST',
            body: JSON.stringify({ method: 'GET', path: '/', headers }),
          })
    const result =
      mode === 'http'
        ? { status: response.status, setCookie: response.headers.getSetCookie() }
        : ((await response.json()) as HandledResponse)
    expect(result.status).toBe(503)
    expect(result.setCookie).toEqual([])
    expect(proxy.operations).toEqual(['GetItem'])
    expect(JSON.parse((await send(mode, '/', { cookie })).body)).toMatchObject({ visits: 2 })
  })

  it.each([
    ['a thrown error', '/throws', 500],
    ['status(500)', '/status-500', 500],
    ["set.status = 'Service Unavailable'", '/set-status-503', 503],
  ])('saves nothing and sends no session cookie after %s', async (_, path, status) => {
    const cookie = await visitor()
    const failed = await send(mode, path, { cookie })
    expect(failed.status).toBe(status)
    expect(failed.setCookie).toEqual([])
    expect(failed.operations.filter((operation) => operation !== 'GetItem')).toEqual([])
    expect(JSON.parse((await send(mode, '/', { cookie })).body)).toMatchObject({ visits: 2 })
    // A new visitor's failed request creates nothing either.
    const fresh = await send(mode, path)
    expect(fresh.setCookie).toEqual([])
    expect(fresh.operations).toEqual([])
  })
})

describe('the Elysia plugin on Bun, with the strictest cookie options', () => {
  it("carries every cookie attribute through Elysia's cookie jar: Secure, __Host-, Max-Age, Partitioned", async () => {
    const sent = await send('handle', '/', { app: 'hardened' })
    expect(sent.setCookie).toHaveLength(1)
    const line = sent.setCookie[0] ?? ''
    expect(line).toMatch(/^__Host-sid=[\w-]{43}\.[\w-]{43};/)
    const attributes = line.split('; ').slice(1).sort()
    expect(attributes).toEqual([
      'HttpOnly',
      'Max-Age=3600',
      'Partitioned',
      'Path=/',
      'SameSite=Strict',
      'Secure',
    ])
  })
})
