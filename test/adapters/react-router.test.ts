// The React Router middleware, driven by React Router's own request handler (createRequestHandler
// over a server build) served over HTTP, with a cookie jar, against DynamoDB Local.
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createElement as h } from 'react'
import {
  createRequestHandler,
  Outlet,
  type RouterContextProvider,
  redirect,
  type ServerBuild,
  useLoaderData,
} from 'react-router'
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { createApp } from '../../examples/react-router/app.ts'
import { type RouteModule, serverBuild } from '../../examples/react-router/build.ts'
import {
  type Session,
  type SessionOptions,
  sessionContext,
  sessionMiddleware,
} from '../../src/adapters/react-router.ts'
import { MemoryStore, type SessionError, type SessionRecord } from '../../src/index.ts'
import { CookieJar } from '../support/cookie-jar.ts'
import { scanAll } from '../support/dynamodb.ts'
import { dynamoStore, SECRET } from '../support/harness.ts'

type Data = { count: number; a: string; b: string; theme: string }
const sessionOf = (context: Readonly<RouterContextProvider>) => context.get(sessionContext) as Session<Data>

const servers: { close: () => void }[] = []
afterAll(() => {
  for (const server of servers) server.close()
})

/** Serves a server build with React Router's request handler on 127.0.0.1. */
async function start(build: ServerBuild): Promise<string> {
  const handle = createRequestHandler(build, 'production')
  const server = serve({ fetch: (request) => handle(request), port: 0, hostname: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  servers.push({ close: () => server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A browser: a cookie jar, no redirects followed, so each response's cookies are seen. */
function browser(base: string, jar = new CookieJar()) {
  return {
    jar,
    async fetch(path: string, init: RequestInit = {}) {
      const headers = new Headers(init.headers)
      const cookie = jar.header()
      if (cookie !== undefined) headers.set('cookie', cookie)
      const response = await fetch(`${base}${path}`, { ...init, headers, redirect: 'manual' })
      const setCookies = response.headers.getSetCookie()
      jar.take(setCookies)
      return { status: response.status, body: await response.text(), setCookies, response }
    },
    post(path: string, form: Record<string, string> = {}) {
      return this.fetch(path, { method: 'POST', body: new URLSearchParams(form) })
    },
  }
}

/** The visible text of a rendered page, without tags. */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')

describe('the React Router example app, through createRequestHandler over HTTP', () => {
  let base = ''
  let tableClient: Awaited<ReturnType<typeof dynamoStore>>

  beforeAll(async () => {
    tableClient = await dynamoStore()
    base = await start(createApp({ secretKey: SECRET, store: tableClient.store, cookie: { secure: false } }))
  })

  it('counts across requests: an action increments, the page loader shows it', async () => {
    const client = browser(base)
    expect(text((await client.fetch('/')).body)).toContain('Count: 0')
    const counted = await client.post('/count')
    expect(counted.status).toBe(302)
    expect(counted.setCookies).toHaveLength(1)
    expect(counted.setCookies[0]).toMatch(
      /^sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/,
    )
    await client.post('/count')
    expect(text((await client.fetch('/')).body)).toContain('Count: 2')
    // Another browser has its own session.
    expect(text((await browser(base).fetch('/')).body)).toContain('Count: 0')
  })

  it('logs in under a new id, shows the welcome flash once, and logs out with a flash', async () => {
    const client = browser(base)
    await client.post('/count')
    const anonymous = client.jar.get('sid')
    const login = await client.post('/login', { user: 'ann' })
    expect(login.status).toBe(302)
    const signedIn = client.jar.get('sid')
    expect(signedIn).toBeDefined()
    expect(signedIn).not.toBe(anonymous) // regenerate(): the pre-login id is worthless now

    const welcome = text((await client.fetch('/')).body)
    expect(welcome).toContain('Welcome, ann')
    expect(welcome).toContain('Signed in as ann')
    expect(welcome).toContain('Count: 1') // the data moved to the new id
    expect(text((await client.fetch('/')).body)).not.toContain('Welcome, ann') // read once

    // The planted (pre-login) cookie finds nothing.
    const planted = browser(base)
    planted.jar.set('sid', anonymous as string)
    expect(text((await planted.fetch('/')).body)).toContain('Count: 0')

    await client.post('/logout')
    const after = text((await client.fetch('/')).body)
    expect(after).toContain('Logged out')
    expect(after).toContain('Not signed in')
    expect(after).toContain('Count: 0')
    // The signed-in session is gone from the table, not merely forgotten by the cookie.
    const replay = browser(base)
    replay.jar.set('sid', signedIn as string)
    expect(text((await replay.fetch('/')).body)).toContain('Not signed in')
  })

  it('keeps ids hashed at rest: no table item is keyed by a cookie id', async () => {
    const client = browser(base)
    await client.post('/count')
    const id = (client.jar.get('sid') ?? '').split('.')[0] ?? ''
    const items = await scanAll(tableClient.client, tableClient.tableName)
    expect(items.length).toBeGreaterThan(0)
    expect(items.some((item) => JSON.stringify(item).includes(id))).toBe(false)
  })
})

describe('the React Router middleware: the guarantees of the core', () => {
  let base = ''
  let calls: Awaited<ReturnType<typeof dynamoStore>>['counter']
  const writes = () => calls.count('PutItemCommand') + calls.count('UpdateItemCommand')

  const routes: Record<string, RouteModule> = {
    count: {
      path: 'count',
      loader: async ({ context }) => {
        const session = sessionOf(context)
        const count = ((await session.get('count')) ?? 0) + 1
        await session.set('count', count)
        return new Response(String(count))
      },
    },
    static: {
      path: 'static',
      loader: () => ({ greeting: 'hello' }),
      default: () => h('p', null, (useLoaderData() as { greeting: string }).greeting),
    },
    nested: {
      path: 'nested',
      loader: async ({ context }) => {
        await sessionOf(context).set('a', 'parent')
        return null
      },
      default: () => h('section', null, h(Outlet)),
    },
    child: {
      path: 'child',
      parentId: 'nested',
      loader: async ({ context }) => {
        await sessionOf(context).set('b', 'child')
        return null
      },
      default: () => h('p', null, 'child'),
    },
    both: {
      path: 'both',
      loader: async ({ context }) => {
        const session = sessionOf(context)
        return new Response(`${await session.get('a')} ${await session.get('b')}`)
      },
    },
    fail: {
      path: 'fail',
      loader: async ({ context }) => {
        await sessionOf(context).set('count', 99)
        throw new Error('loader failed after changing the session')
      },
      default: () => h('p', null, 'never'),
    },
    theme: {
      path: 'theme',
      action: async ({ context }) => {
        await sessionOf(context).set('theme', 'dark')
        return redirect('/static', { headers: { 'set-cookie': 'theme=dark; Path=/' } })
      },
    },
  }

  beforeAll(async () => {
    const table = await dynamoStore()
    calls = table.counter
    const root = {
      middleware: [
        sessionMiddleware<Data>({ secretKey: SECRET, store: table.store, cookie: { secure: false } }),
      ],
      default: () => h('html', null, h('body', null, h(Outlet))),
    }
    base = await start(serverBuild(routes, root))
  })

  it('makes no DynamoDB call and sends no Set-Cookie for a page whose loaders never read the session', async () => {
    const client = browser(base)
    await client.fetch('/count')
    calls.reset()
    const page = await client.fetch('/static')
    expect(page.status).toBe(200)
    expect(text(page.body)).toContain('hello')
    expect(page.setCookies).toEqual([])
    expect(calls.count()).toBe(0)
    // React Router's single-fetch data request for the same page: the same.
    const data = await client.fetch('/static.data')
    expect(data.status).toBe(200)
    expect(data.setCookies).toEqual([])
    expect(calls.count()).toBe(0)
  })

  it('commits once after the whole chain: two nested loaders change it, one write, one Set-Cookie', async () => {
    const client = browser(base)
    calls.reset()
    const page = await client.fetch('/nested/child')
    expect(page.status).toBe(200)
    expect(page.setCookies.filter((line) => line.startsWith('sid='))).toHaveLength(1)
    expect(writes()).toBe(1)
    expect((await client.fetch('/both')).body).toBe('parent child')
  })

  it('sends no Set-Cookie and writes nothing when an unchanged session is read', async () => {
    const client = browser(base)
    await client.fetch('/nested/child')
    calls.reset()
    const read = await client.fetch('/both')
    expect(read.body).toBe('parent child')
    expect(read.setCookies).toEqual([])
    expect(writes()).toBe(0)
  })

  it('never reads the store for a cookie with a bad signature, and expires that cookie', async () => {
    const client = browser(base)
    await client.fetch('/count')
    const good = client.jar.get('sid') as string
    client.jar.set('sid', `${good.slice(0, -2)}AA`)
    calls.reset()
    const tampered = await client.fetch('/count')
    expect(tampered.body).toBe('1') // a fresh session
    expect(calls.count('GetItemCommand')).toBe(0)
    expect(client.jar.get('sid')).not.toBe(good)
  })

  it('saves nothing and sends no session cookie when a loader throws (500)', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const client = browser(base)
      expect((await client.fetch('/count')).body).toBe('1')
      calls.reset()
      const failed = await client.fetch('/fail')
      expect(failed.status).toBe(500)
      expect(failed.setCookies).toEqual([])
      expect(writes()).toBe(0)
      expect((await client.fetch('/count')).body).toBe('2') // not 100
    } finally {
      errors.mockRestore()
    }
  })

  it("keeps an action's own Set-Cookie beside the session cookie on a redirect", async () => {
    const client = browser(base)
    const themed = await client.post('/theme')
    expect(themed.status).toBe(302)
    expect(themed.setCookies).toHaveLength(2)
    expect(themed.setCookies).toContain('theme=dark; Path=/')
    expect(client.jar.get('sid')).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
  })
})

/** Only to inject the fault: every load fails as an unreachable store would. */
class FailingLoadStore extends MemoryStore {
  override async load(_key: string): Promise<SessionRecord | undefined> {
    throw new Error('store is down')
  }
}

describe('the React Router middleware when the store fails', () => {
  const handled: { code: string; phase: string }[] = []
  let cookie = ''

  const appWith = (options: Partial<SessionOptions>) => {
    const routes: Record<string, RouteModule> = {
      count: {
        path: 'count',
        loader: async ({ context }) => {
          const session = sessionOf(context)
          await session.set('count', ((await session.get('count')) ?? 0) + 1)
          return new Response('counted')
        },
      },
      swallow: {
        path: 'swallow',
        loader: async ({ context }) => {
          await sessionOf(context)
            .get('count')
            .catch(() => undefined)
          return new Response('carried on')
        },
      },
    }
    const middleware = sessionMiddleware<Data>({
      secretKey: SECRET,
      store: new FailingLoadStore(),
      cookie: { secure: false },
      ...options,
    })
    return start(serverBuild(routes, { middleware: [middleware], default: () => h(Outlet) }))
  }

  beforeAll(async () => {
    // A validly signed cookie, so the failing apps do reach the store.
    const healthy = sessionMiddleware({
      secretKey: SECRET,
      store: new MemoryStore(),
      cookie: { secure: false },
    })
    const count: RouteModule = {
      path: 'count',
      loader: async ({ context }) => {
        await context.get(sessionContext).set('count', 1)
        return new Response('1')
      },
    }
    const client = browser(
      await start(serverBuild({ count }, { middleware: [healthy], default: () => h(Outlet) })),
    )
    await client.fetch('/count')
    cookie = client.jar.get('sid') ?? ''
    expect(cookie).not.toBe('')
  })

  const send = async (base: string, path: string) => {
    const response = await fetch(`${base}${path}`, { headers: { cookie: `sid=${cookie}` } })
    return {
      status: response.status,
      body: await response.text(),
      setCookies: response.headers.getSetCookie(),
    }
  }

  it('answers the default 503 with no Set-Cookie, even when the loader swallowed the error', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const base = await appWith({})
      const counted = await send(base, '/count')
      expect(counted.status).toBe(503)
      expect(counted.setCookies).toEqual([])
      const swallowed = await send(base, '/swallow')
      expect(swallowed.status).toBe(503)
      expect(swallowed.body).not.toBe('carried on')
      expect(errors.mock.calls.some((args) => String(args[0]).includes('STORE_UNAVAILABLE'))).toBe(true)
    } finally {
      errors.mockRestore()
    }
  })

  it("uses a custom onError's response (502), told the code and the phase", async () => {
    // React Router's own handleError logs the loader's error; only onError decides the answer.
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    onTestFinished(() => errors.mockRestore())
    const base = await appWith({
      onError: (error: SessionError, _request, phase) => {
        handled.push({ code: error.code, phase })
        return new Response('bad gateway', { status: 502 })
      },
    })
    const response = await send(base, '/count')
    expect(response.status).toBe(502)
    expect(response.body).toBe('bad gateway')
    expect(response.setCookies).toEqual([])
    expect(handled).toEqual([{ code: 'STORE_UNAVAILABLE', phase: 'load' }])
  })
})
