// nextSession()'s options, checked with Next's own NextRequest outside a server: an object is
// validated at once; a function only on the first request, once, so `next build` needs no secret.
import { NextRequest } from 'next/server'
import { describe, expect, it, vi } from 'vitest'
import { nextSession } from '../../src/adapters/next.ts'
import { MemoryStore, type SessionOptions } from '../../src/index.ts'
import { SECRET, sessionCookie } from '../support/harness.ts'

const params = { params: Promise.resolve({}) }

describe('nextSession() options', () => {
  it('rejects a short secret at once when the options are an object', () => {
    expect(() => nextSession({ secretKey: 'too short', store: new MemoryStore() })).toThrow(
      /"secretKey" must be a string of at least 32 characters.*generate one with `openssl rand -base64 32`/,
    )
  })

  it('builds options given as a function on the first request only, and once', async () => {
    const options = vi.fn((): SessionOptions => ({ secretKey: SECRET, store: new MemoryStore() }))
    const session = nextSession<{ visits: number }>(options)
    const GET = session.withSession(async (_request, { session: current }) => {
      const visits = ((await current.get('visits')) ?? 0) + 1
      await current.set('visits', visits)
      return Response.json({ visits })
    })
    expect(options).not.toHaveBeenCalled()
    const first = await GET(new NextRequest('https://app.test/api/visits'), params)
    const cookie = sessionCookie(first)?.value
    expect(await first.json()).toEqual({ visits: 1 })
    const second = await GET(
      new NextRequest('https://app.test/api/visits', { headers: { cookie: `sid=${cookie}` } }),
      params,
    )
    expect(await second.json()).toEqual({ visits: 2 })
    expect(options).toHaveBeenCalledTimes(1)
  })

  it('fails the first request, with the reason, when options from a function are bad', async () => {
    const session = nextSession(() => ({ secretKey: 'too short', store: new MemoryStore() }))
    const GET = session.withSession(() => new Response('never'))
    await expect(GET(new NextRequest('https://app.test/'), params)).rejects.toThrow(
      /"secretKey" must be a string of at least 32 characters/,
    )
  })
})
