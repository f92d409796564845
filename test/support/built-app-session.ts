// The session checks that every built example app (SvelteKit, Astro) passes through its own
// server, in its framework's words: each app serves a page at / that counts visits
// (`id="visits"`), the session as JSON at /visits, and `ok` at /health, which never uses it.
import { expect, it } from 'vitest'
import { hashSessionId } from '../../src/core/crypto.ts'
import { browser } from './built-app.ts'
import { localClient, scanAll } from './dynamodb.ts'
import type { startFaultProxy } from './fault-proxy.ts'

type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>

/** A built app as its test started it: where it listens, the proxy it reaches DynamoDB through, its table. */
export interface BuiltSessionApp {
  base: string
  proxy: FaultProxy
  tableName: string
}

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

/**
 * Registers the checks; `app` is read when they run. `carrier` names where a handler finds the
 * session, `route` what the framework calls a route ('a route', 'an endpoint').
 */
export function builtAppSessionChecks(app: () => BuiltSessionApp, words: { carrier: string; route: string }) {
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
}
