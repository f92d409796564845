import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSessionId, hashSessionId, importSigningKeys, signSessionId } from '../../src/core/crypto.ts'
import { getSession, MemoryStore, type SessionRecord, sessionMiddleware } from '../../src/index.ts'
import { nowInSeconds } from '../../src/store/store.ts'
import { app, dynamoStore, OLD_SECRET, ORIGIN, SECRET } from '../support/harness.ts'

/** A MemoryStore that counts its loads: the property is about the middleware, not the store. */
class CountingStore extends MemoryStore {
  loads = 0
  override async load(key: string): Promise<SessionRecord | undefined> {
    this.loads++
    return super.load(key)
  }
}

const readOnly = async (request: Request) => {
  const session = getSession<{ user: string }>(request)
  const user = (await session.get('user')) ?? '' // loads first: the id is settled once loaded
  return new Response(`${session.id}|${user}`)
}

/** A request with this Cookie header, or undefined when the platform itself refuses the header. */
function requestWithCookie(header: string): Request | undefined {
  try {
    return new Request(`${ORIGIN}/`, { headers: { cookie: header } })
  } catch {
    return undefined // CR, LF, NUL and characters above U+00FF never reach a handler
  }
}

const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{0,50}$/)
const cookieValue = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.tuple(base64url, base64url).map(([id, signature]) => `${id}.${signature}`),
  fc.tuple(base64url, fc.constantFrom('', '.', '..', '=', '%2E', '\r\n', '\u0000')).map(([a, b]) => a + b),
  fc.constant('x'.repeat(8192)),
)
const cookieHeader = fc.oneof(
  cookieValue.map((value) => `sid=${value}`),
  fc
    .array(fc.tuple(fc.constantFrom('sid', 'SID', 'sid ', 'other', '__Host-sid', ''), cookieValue), {
      maxLength: 8,
    })
    .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('; ')),
  fc.string({ maxLength: 300 }),
)

describe('hostile Cookie headers', () => {
  it('never throw, never read the store, and never adopt the id they carry', async () => {
    const store = new CountingStore()
    const withSession = sessionMiddleware({ secretKey: SECRET, store })
    await fc.assert(
      fc.asyncProperty(cookieHeader, async (header) => {
        const request = requestWithCookie(header)
        fc.pre(request !== undefined)
        const response = await withSession(request as Request, readOnly)
        const [id = '', user] = (await response.text()).split('|')
        expect(response.status).toBe(200)
        expect(user).toBe('')
        expect(header).not.toContain(id)
        for (const cookie of response.headers.getSetCookie()) expect(cookie).toContain('Max-Age=0')
      }),
      { numRuns: 3000 },
    )
    expect(store.loads).toBe(0)
  })

  it('with cookies signed by a retired or a future secret, start a fresh session without a read', async () => {
    const store = new CountingStore()
    const withSession = sessionMiddleware({ secretKey: SECRET, store })
    const keys = await importSigningKeys([OLD_SECRET, `future-${SECRET}`])
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), async (key) => {
        const id = createSessionId()
        const response = await withSession(
          requestWithCookie(`sid=${await signSessionId(id, key)}`) as Request,
          readOnly,
        )
        expect((await response.text()).split('|')[0]).not.toBe(id)
      }),
      { numRuns: 200 },
    )
    expect(store.loads).toBe(0)
  })

  it('with validly signed but unknown or expired ids, read once and still give a new id', async () => {
    const store = new CountingStore()
    const withSession = sessionMiddleware({ secretKey: SECRET, store })
    const [key] = (await importSigningKeys([SECRET])) as [CryptoKey]
    for (let run = 0; run < 200; run++) {
      const id = createSessionId()
      if (run % 2 === 1) {
        // Every other id was stored once and has expired since (TTL has not deleted it yet).
        const now = nowInSeconds()
        const key = await hashSessionId(id)
        const expired = {
          key,
          data: { user: 'gone' },
          createdAt: now - 99,
          updatedAt: now - 99,
          expiresAt: now - 1,
        }
        expect(await store.create(expired)).toBe(true)
      }
      const response = await withSession(
        requestWithCookie(`sid=${await signSessionId(id, key)}`) as Request,
        readOnly,
      )
      const [servedId, user] = (await response.text()).split('|')
      expect(servedId).not.toBe(id)
      expect(user).toBe('') // nothing of the expired session is served
    }
    expect(store.loads).toBe(200)
  })
})

describe("another user's session", () => {
  const users = ['ada', 'grace', 'edsger']
  const cookies: string[] = []
  let sessions: ReturnType<typeof app>

  beforeAll(async () => {
    sessions = app(new MemoryStore())
    for (const user of users) {
      const { cookie } = await sessions.send(async (request) => {
        await getSession<{ user: string }>(request).set('user', user)
        return new Response(user)
      })
      cookies.push(cookie?.value ?? '')
    }
  })

  it('is never reached by changing a cookie', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(users.length - 1),
        fc.nat(86),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'),
        async (owner, position, character) => {
          const cookie = cookies[owner] ?? ''
          const changed = cookie.slice(0, position) + character + cookie.slice(position + 1)
          const { body } = await sessions.send(readOnly, changed)
          const user = body.split('|')[1]
          expect(user).toBe(changed === cookie ? users[owner] : '')
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('hostile session data', () => {
  it('round-trips any JSON value through DynamoDB unchanged', async () => {
    const { store } = await dynamoStore()
    const sessions = app(store)
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 6 }), async (key, value) => {
        fc.pre(!/^__flash_.*__$/.test(key) && value !== null)
        const written = await sessions.send(async (request) => {
          await getSession(request).set(key, value)
          return new Response('ok')
        })
        const read = await sessions.send(
          async (request) => new Response(JSON.stringify(await getSession(request).get(key))),
          written.cookie?.value,
        )
        expect(read.body).toBe(JSON.stringify(value))
      }),
      { numRuns: 150 },
    )
  })

  it('keeps prototype keys as plain data, polluting nothing', async () => {
    const { store } = await dynamoStore()
    const sessions = app(store)
    const hostile = JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
    )
    const written = await sessions.send(async (request) => {
      const session = getSession(request)
      await session.set('__proto__', { polluted: true })
      await session.set('constructor', 'not a function')
      await session.set('nested', hostile)
      return new Response('ok')
    })
    const { body } = await sessions.send(async (request) => {
      const all = await getSession(request).all()
      return new Response(
        JSON.stringify([
          Object.keys(all).sort(),
          all.nested,
          Object.getPrototypeOf(all) === Object.prototype,
        ]),
      )
    }, written.cookie?.value)
    expect(JSON.parse(body)).toEqual([
      ['__proto__', 'constructor', 'nested'], // sorted: DynamoDB keeps no order in a map
      JSON.parse(JSON.stringify(hostile)),
      true,
    ])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses nesting deeper than 256 levels and strings past the item limit, with clear errors', async () => {
    const deep = (levels: number) => {
      let value: unknown = 'bottom'
      for (let level = 0; level < levels; level++) value = [value]
      return value
    }
    const { store } = await dynamoStore()
    const { body } = await app(store).send(async (request) => {
      const session = getSession(request)
      await session.set('ok', deep(200))
      const error = await session.set('deep', deep(300)).catch((error: Error) => error.message)
      return new Response(String(error))
    })
    expect(body).toMatch(/nested more than 256 levels deep/)

    const errors: string[] = []
    const huge = await app(store, {
      onError: (error) => {
        errors.push(error.code)
        return new Response('too large', { status: 413 })
      },
    }).send(async (request) => {
      await getSession(request).set('huge', 'x'.repeat(1_000_000))
      return new Response('ok')
    })
    expect(huge.response.status).toBe(413)
    expect(errors).toEqual(['SESSION_TOO_LARGE'])
  })
})
