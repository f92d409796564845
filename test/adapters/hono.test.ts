import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { type SessionEnv, session } from '../../src/adapters/hono.ts'
import { getSession, MemoryStore, type SessionError, type SessionRecord } from '../../src/index.ts'
import { SECRET, sessionCookie } from '../support/harness.ts'

type Data = { count: number; theme: string }

/** Only to inject the fault: every load fails as an unreachable store would. */
class FailingLoadStore extends MemoryStore {
  override async load(_key: string): Promise<SessionRecord | undefined> {
    throw new Error('store is down')
  }
}

const servers: { close: () => void }[] = []

/** Serves `app` on 127.0.0.1 on a free port; afterAll closes it. */
async function start(app: Hono<SessionEnv<Data>>): Promise<string> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  servers.push({ close: () => server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

afterAll(() => {
  for (const server of servers) server.close()
})

/** A one-cookie jar: sends the session cookie it holds and keeps whatever a response sets. */
function browser(base: string) {
  let cookie: string | undefined
  return {
    get cookie() {
      return cookie
    },
    async fetch(path: string, init: RequestInit = {}) {
      const headers = new Headers(init.headers)
      if (cookie !== undefined) headers.set('cookie', `sid=${cookie}`)
      const response = await fetch(`${base}${path}`, { ...init, headers })
      const set = sessionCookie(response)
      if (set) cookie = set.value
      return { response, status: response.status, body: await response.text(), setCookie: set }
    },
  }
}

describe('the Hono adapter, over HTTP', () => {
  const store = new MemoryStore()
  let base = ''

  beforeAll(async () => {
    const app = new Hono<SessionEnv<Data>>()
    app.use(session({ secretKey: SECRET, store, cookie: { secure: false } }))
    app.get('/count', async (c) => {
      const count = ((await c.get('session').get('count')) ?? 0) + 1
      await c.get('session').set('count', count)
      return c.text(String(count))
    })
    app.get('/read', async (c) => c.text(String((await c.get('session').get('count')) ?? 0)))
    app.get('/untouched', (c) => c.text('no session here'))
    app.get('/theme', async (c) => {
      setCookie(c, 'theme', 'dark', { path: '/', httpOnly: true })
      await c.get('session').set('theme', 'dark')
      return c.text('themed')
    })
    app.get('/fail', async (c) => {
      await c.get('session').set('count', 99)
      throw new Error('handler failed after changing the session')
    })
    app.get('/same', (c) => c.json({ same: c.get('session') === getSession(c.req.raw) }))
    app.get('/proxy', async (c) => {
      await c.get('session').set('count', 1)
      return fetch(c.req.query('upstream') ?? '') // immutable headers: the adapter must copy it
    })
    base = await start(app)
  })

  it('keeps a session across requests: c.get("session") counts 1, 2, 3', async () => {
    const client = browser(base)
    const first = await client.fetch('/count')
    expect(first.body).toBe('1')
    expect(first.setCookie?.header).toMatch(/^sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; /)
    expect(first.setCookie?.header).toMatch(/HttpOnly/i)
    expect(first.setCookie?.header).not.toMatch(/Secure/i) // cookie: { secure: false }
    expect((await client.fetch('/count')).body).toBe('2')
    expect((await client.fetch('/count')).body).toBe('3')
    expect((await client.fetch('/read')).body).toBe('3')
    // A browser without the cookie starts over.
    expect((await browser(base).fetch('/count')).body).toBe('1')
  })

  it('sends no Set-Cookie from a route that never touches the session', async () => {
    const loads = vi.spyOn(store, 'load')
    try {
      const anonymous = await fetch(`${base}/untouched`)
      expect(anonymous.status).toBe(200)
      expect(anonymous.headers.getSetCookie()).toEqual([])

      const client = browser(base)
      await client.fetch('/count')
      loads.mockClear()
      const known = await client.fetch('/untouched')
      expect(known.body).toBe('no session here')
      expect(known.response.headers.getSetCookie()).toEqual([])
      expect(loads).not.toHaveBeenCalled() // lazy: no store read either
    } finally {
      loads.mockRestore()
    }
  })

  it("keeps the handler's own cookie, set with hono/cookie, alongside the session cookie", async () => {
    const client = browser(base)
    const { response, setCookie: set } = await client.fetch('/theme')
    const lines = response.headers.getSetCookie()
    expect(lines).toHaveLength(2)
    expect(lines.some((line) => line.startsWith('theme=dark;'))).toBe(true)
    expect(set?.value).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
    expect((await client.fetch('/read')).body).toBe('0') // the session exists, with theme only
  })

  it("keeps an upstream fetch() response's cookie alongside the session cookie", async () => {
    const upstream = new Hono<SessionEnv<Data>>()
    upstream.get('/', () => new Response('from upstream', { headers: { 'set-cookie': 'up=1; Path=/' } }))
    const upstreamBase = await start(upstream)
    const client = browser(base)
    const {
      body,
      response,
      setCookie: set,
    } = await client.fetch(`/proxy?upstream=${encodeURIComponent(upstreamBase)}`)
    expect(body).toBe('from upstream')
    expect(response.headers.getSetCookie()).toContain('up=1; Path=/')
    expect(set).toBeDefined()
    expect((await client.fetch('/read')).body).toBe('1')
  })

  it('saves nothing and sends no session cookie when the handler throws (500)', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    const creates = vi.spyOn(store, 'create')
    const updates = vi.spyOn(store, 'update')
    try {
      // A new session changed by a failing handler is never created.
      const fresh = await fetch(`${base}/fail`)
      expect(fresh.status).toBe(500)
      expect(fresh.headers.getSetCookie()).toEqual([])
      expect(creates).not.toHaveBeenCalled()

      // An existing session keeps its value.
      const client = browser(base)
      expect((await client.fetch('/count')).body).toBe('1')
      const cookie = client.cookie
      creates.mockClear()
      const failed = await client.fetch('/fail')
      expect(failed.status).toBe(500)
      expect(failed.response.headers.getSetCookie()).toEqual([])
      expect(updates).not.toHaveBeenCalled()
      expect(client.cookie).toBe(cookie)
      expect((await client.fetch('/read')).body).toBe('1')
    } finally {
      creates.mockRestore()
      updates.mockRestore()
      errors.mockRestore()
    }
  })

  it('gives c.get("session") as the very object getSession(c.req.raw) returns', async () => {
    const response = await fetch(`${base}/same`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ same: true })
  })
})

describe('the Hono adapter when the store fails', () => {
  let cookie = ''
  let defaultBase = ''
  let customBase = ''
  const handled: { code: string; phase: string; path: string }[] = []

  beforeAll(async () => {
    // A validly signed cookie, so the failing apps do reach the store.
    const healthy = new Hono<SessionEnv<Data>>()
    healthy.use(session({ secretKey: SECRET, store: new MemoryStore(), cookie: { secure: false } }))
    healthy.get('/count', async (c) => {
      await c.get('session').set('count', 1)
      return c.text('1')
    })
    const minted = await browser(await start(healthy)).fetch('/count')
    cookie = minted.setCookie?.value ?? ''
    expect(cookie).not.toBe('')

    const routes = (app: Hono<SessionEnv<Data>>) => {
      app.get('/count', async (c) => {
        const count = ((await c.get('session').get('count')) ?? 0) + 1
        await c.get('session').set('count', count)
        return c.text(String(count))
      })
      app.get('/swallow', async (c) => {
        try {
          await c.get('session').get('count')
        } catch {
          // the handler carries on as if nothing happened
        }
        return c.text('carried on')
      })
      return app
    }

    const withDefault = new Hono<SessionEnv<Data>>()
    withDefault.use(session({ secretKey: SECRET, store: new FailingLoadStore(), cookie: { secure: false } }))
    defaultBase = await start(routes(withDefault))

    const withCustom = new Hono<SessionEnv<Data>>()
    withCustom.use(
      session({
        secretKey: SECRET,
        store: new FailingLoadStore(),
        cookie: { secure: false },
        onError: (error: SessionError, request, phase) => {
          handled.push({ code: error.code, phase, path: new URL(request.url).pathname })
          return new Response('bad gateway', { status: 502 })
        },
      }),
    )
    customBase = await start(routes(withCustom))
  })

  const send = async (base: string, path: string) => {
    const response = await fetch(`${base}${path}`, { headers: { cookie: `sid=${cookie}` } })
    return {
      status: response.status,
      body: await response.text(),
      setCookie: response.headers.getSetCookie(),
    }
  }

  it('answers the default 503, with no Set-Cookie, when loading fails', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const response = await send(defaultBase, '/count')
      expect(response.status).toBe(503)
      expect(response.body).toBe('Service Unavailable')
      expect(response.setCookie).toEqual([])
      // The default handler logs the failure, naming its code.
      expect(errors.mock.calls.some((args) => String(args[0]).includes('STORE_UNAVAILABLE'))).toBe(true)
    } finally {
      errors.mockRestore()
    }
  })

  it('fails closed even when the handler catches the load error and answers 200', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const response = await send(defaultBase, '/swallow')
      expect(response.status).toBe(503)
      expect(response.body).not.toBe('carried on')
      expect(response.setCookie).toEqual([])
    } finally {
      errors.mockRestore()
    }
  })

  it("uses a custom onError's response (502), told the error code and the phase", async () => {
    const response = await send(customBase, '/count')
    expect(response.status).toBe(502)
    expect(response.body).toBe('bad gateway')
    expect(response.setCookie).toEqual([])
    expect(handled).toEqual([{ code: 'STORE_UNAVAILABLE', phase: 'load', path: '/count' }])
  })
})
