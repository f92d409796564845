import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { hashSessionId, importSigningKeys, signSessionId } from '../../src/core/crypto.ts'
import {
  DynamoDBStore,
  getSession,
  MemoryStore,
  type SessionError,
  SessionStoreError,
  sessionMiddleware,
} from '../../src/index.ts'
import { scanAll } from '../support/dynamodb.ts'
import { app, count, dynamoStore, OLD_SECRET, readCount, SECRET, sessionCookie } from '../support/harness.ts'

const untouched = () => new Response('no session here')

describe('secretKey', () => {
  const store = new MemoryStore()

  it('is required, and the error names the option', () => {
    // @ts-expect-error: the option is missing on purpose
    expect(() => sessionMiddleware({ store })).toThrow(/"secretKey"/)
    expect(() => sessionMiddleware({ store, secretKey: [] })).toThrow(/"secretKey"/)
  })

  it('must be at least 32 characters, each of them', () => {
    expect(() => sessionMiddleware({ store, secretKey: 'x'.repeat(31) })).toThrow(/"secretKey".*32/)
    expect(() => sessionMiddleware({ store, secretKey: [SECRET, 'short'] })).toThrow(/"secretKey".*32/)
    expect(() => sessionMiddleware({ store, secretKey: 'x'.repeat(32) })).not.toThrow()
  })

  it('rotates: the first signs, all verify, and an older signature is re-signed with the newest', async () => {
    const before = app(store, { secretKey: OLD_SECRET })
    const minted = await before.send(count)
    const oldCookie = minted.cookie?.value ?? ''

    const rotated = app(store, { secretKey: [SECRET, OLD_SECRET] })
    const read = await rotated.send(readCount, oldCookie)
    expect(read.body).toBe('1')
    expect(read.cookie?.id).toBe(minted.cookie?.id)
    expect(read.cookie?.value).not.toBe(oldCookie)

    const retired = app(store, { secretKey: SECRET })
    expect((await retired.send(readCount, read.cookie?.value)).body).toBe('1')
    expect((await retired.send(readCount, oldCookie)).body).toBe('0')
  })

  it('does not re-sign a cookie that the newest secret signed', async () => {
    const current = app(store, { secretKey: [SECRET, OLD_SECRET] })
    const minted = await current.send(count)
    expect((await current.send(readCount, minted.cookie?.value)).cookie).toBeUndefined()
  })
})

describe('the session cookie', () => {
  let env: Awaited<ReturnType<typeof dynamoStore>>
  beforeAll(async () => {
    env = await dynamoStore()
  })

  it('carries a 256-bit random id and an HMAC-SHA256 signature, both base64url', async () => {
    const { cookie } = await app(env.store).send(count)
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
    const idBytes = atob((cookie?.id ?? '').replaceAll('-', '+').replaceAll('_', '/'))
    expect(idBytes).toHaveLength(32)
    const keys = await importSigningKeys([SECRET])
    expect(cookie?.value).toBe(await signSessionId(cookie?.id ?? '', keys[0] as CryptoKey))
  })

  it('gives a fresh session for a tampered cookie, without reading the store, and clears the cookie', async () => {
    const { cookie } = await app(env.store).send(count)
    const value = cookie?.value ?? ''
    const flip = (at: number) => `${value.slice(0, at)}${value[at] === 'x' ? 'y' : 'x'}${value.slice(at + 1)}`
    const tampered = [flip(10), flip(60)] // the id, the signature
    for (const forged of tampered) {
      env.counter.reset()
      let seenId = ''
      const { body, cookie: answer } = await app(env.store).send(async (request) => {
        seenId = getSession(request).id
        return readCount(request)
      }, forged)
      expect(body).toBe('0')
      expect(answer?.header).toContain('Max-Age=0') // the useless cookie is cleared
      expect(seenId).not.toBe(forged.split('.')[0])
      expect(env.counter.count()).toBe(0)
    }
  })

  it('ignores malformed cookies without an exception or a store read', async () => {
    const malformed = [
      '',
      'abc',
      'x.y',
      'a'.repeat(43),
      `${'a'.repeat(43)}.${'!'.repeat(43)}`,
      'a'.repeat(5000),
    ]
    for (const value of malformed) {
      env.counter.reset()
      const { response, body } = await app(env.store).send(readCount, encodeURIComponent(value))
      expect(response.status).toBe(200)
      expect(body).toBe('0')
      expect(env.counter.count()).toBe(0)
    }
  })

  it('never adopts an id it signed but does not store', async () => {
    const planted = `${'P'.repeat(42)}A`
    const keys = await importSigningKeys([SECRET])
    const cookie = await signSessionId(planted, keys[0] as CryptoKey)
    env.counter.reset()
    const { cookie: issued } = await app(env.store).send(count, cookie)
    expect(env.counter.count('GetItemCommand')).toBe(1)
    expect(issued?.id).toBeDefined()
    expect(issued?.id).not.toBe(planted)
    expect(await env.store.load(await hashSessionId(planted))).toBeUndefined()
  })
})

describe('the session id at rest', () => {
  it('is stored as its SHA-256: no item holds the id or the cookie', async () => {
    const { store } = await dynamoStore()
    const { cookie } = await app(store).send(count)
    const id = cookie?.id ?? ''
    const record = await store.load(await hashSessionId(id))
    expect(record?.data).toEqual({ count: 1 })
    expect(record?.key).not.toContain(id)
    expect(await store.load(id)).toBeUndefined()
  })

  it('leaves no attribute of the raw item holding the id, the cookie or its signature; the key is the SHA-256 of the id', async () => {
    const env = await dynamoStore()
    const sessions = app(env.store)
    const { cookie } = await sessions.send(async (request) => {
      await getSession(request).setUser('ada')
      return count(request)
    })
    await sessions.send(count, cookie?.value) // an update writes the item too
    const value = cookie?.value ?? ''
    const [id = '', signature = ''] = value.split('.')
    expect(id).toHaveLength(43)
    expect(signature).toHaveLength(43)

    const items = await scanAll(env.client, env.tableName)
    expect(items).toHaveLength(1)
    const [item = {}] = items
    expect(item.data).toEqual({ M: { count: { S: '2' } } }) // the update is in the scanned item
    expect(item.user_id).toEqual({ S: 'ada' })
    // Hashed here with node:crypto, not with the library's own code.
    expect(item.session_id).toEqual({ S: createHash('sha256').update(id).digest('base64url') })
    const idBytes = Buffer.from(id, 'base64url')
    const traces = [
      value,
      id,
      signature,
      idBytes.toString('base64').replace(/=+$/, ''),
      idBytes.toString('hex'),
    ]
    const texts = [...textsOf(item)]
    expect(texts).toContain('session_id') // the walk reaches names and values alike
    for (const text of texts) for (const trace of traces) expect(text).not.toContain(trace)
  })
})

/** Every attribute name and every value of an item, as text, at any depth. */
function* textsOf(item: Record<string, AttributeValue>): Generator<string> {
  for (const [name, value] of Object.entries(item)) {
    yield name
    yield* valueTexts(value)
  }
}

function* valueTexts(value: AttributeValue): Generator<string> {
  if (value.S !== undefined) yield value.S
  if (value.N !== undefined) yield value.N
  if (value.B !== undefined) yield* bytesTexts(value.B)
  for (const text of [...(value.SS ?? []), ...(value.NS ?? [])]) yield text
  for (const bytes of value.BS ?? []) yield* bytesTexts(bytes)
  for (const entry of value.L ?? []) yield* valueTexts(entry)
  if (value.M !== undefined) yield* textsOf(value.M)
}

function* bytesTexts(bytes: Uint8Array): Generator<string> {
  const buffer = Buffer.from(bytes)
  yield buffer.toString('latin1')
  yield buffer.toString('base64')
  yield buffer.toString('hex')
}

describe('lazy loading', () => {
  it('makes no DynamoDB call and sets no cookie when the handler never touches the session', async () => {
    const env = await dynamoStore()
    const { cookie } = await app(env.store).send(count)
    env.counter.reset()
    for (const sent of [undefined, cookie?.value, 'tampered.value']) {
      const { response } = await app(env.store).send(untouched, sent)
      expect(response.headers.getSetCookie()).toEqual([])
    }
    expect(env.counter.count()).toBe(0)
  })

  it('reads the store once however often the handler reads the session', async () => {
    const env = await dynamoStore()
    const { cookie } = await app(env.store).send(count)
    env.counter.reset()
    await app(env.store).send(async (request) => {
      const session = getSession(request)
      await Promise.all([session.get('count'), session.has('count'), session.all()])
      await session.get('count')
      return new Response('ok')
    }, cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand'])
  })
})

describe('the hot path', () => {
  it('checks a returning cookie and hashes its id once, then remembers both', async () => {
    const sessions = app(new MemoryStore())
    const { cookie } = await sessions.send(count)
    const verify = vi.spyOn(crypto.subtle, 'verify')
    const digest = vi.spyOn(crypto.subtle, 'digest')
    try {
      await sessions.send(readCount, cookie?.value)
      const [verifies, digests] = [verify.mock.calls.length, digest.mock.calls.length]
      expect(verifies).toBeLessThanOrEqual(1)
      for (let request = 0; request < 5; request++) await sessions.send(readCount, cookie?.value)
      expect(verify.mock.calls.length).toBe(verifies)
      expect(digest.mock.calls.length).toBe(digests)
      // A changed cookie is checked afresh, and refused.
      expect((await sessions.send(readCount, `${cookie?.value.slice(0, -2)}xA`)).body).toBe('0')
      expect(verify.mock.calls.length).toBeGreaterThan(verifies)
    } finally {
      vi.restoreAllMocks()
    }
  })

  it('makes no session id for a request that never stores a session', async () => {
    const random = vi.spyOn(crypto, 'getRandomValues')
    try {
      await app(new MemoryStore()).send(untouched)
      await app(new MemoryStore()).send(readCount)
      expect(random).not.toHaveBeenCalled()
    } finally {
      vi.restoreAllMocks()
    }
  })
})

describe('dirty checking', () => {
  it('writes nothing when the data is unchanged, also after setting an equal value', async () => {
    const env = await dynamoStore()
    const { cookie } = await app(env.store).send(count)
    env.counter.reset()
    const { cookie: resent } = await app(env.store).send(async (request) => {
      const session = getSession<{ count: number; list: number[] }>(request)
      await session.set('count', (await session.get('count')) ?? 0)
      return new Response('same')
    }, cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand'])
    expect(resent).toBeUndefined()
  })

  it('sees a value changed in place, without set()', async () => {
    const env = await dynamoStore()
    const first = await app(env.store).send(async (request) => {
      await getSession<{ list: number[] }>(request).set('list', [1])
      return new Response('ok')
    })
    env.counter.reset()
    await app(env.store).send(async (request) => {
      ;(await getSession<{ list: number[] }>(request).get('list'))?.push(2)
      return new Response('ok')
    }, first.cookie?.value)
    expect(env.counter.calls).toEqual(['GetItemCommand', 'UpdateItemCommand'])
    const record = await env.store.load(await hashSessionId(first.cookie?.id ?? ''))
    expect(record?.data).toEqual({ list: [1, 2] })
  })
})

describe('a new session', () => {
  it('is not stored and gets no cookie when it ends the request empty', async () => {
    const env = await dynamoStore()
    const { response } = await app(env.store).send(async (request) => {
      const session = getSession(request)
      await session.get('anything')
      await session.set('temporary', 1)
      await session.delete('temporary')
      return new Response('empty')
    })
    expect(response.headers.getSetCookie()).toEqual([])
    expect(env.counter.count()).toBe(0)
  })

  it('is created with one conditional write and no read', async () => {
    const env = await dynamoStore()
    const { cookie } = await app(env.store).send(count)
    expect(env.counter.calls).toEqual(['PutItemCommand'])
    expect(cookie).toBeDefined()
  })
})

describe('the response', () => {
  it('keeps the Set-Cookie headers the handler set', async () => {
    const { response } = await app(new MemoryStore()).send(async (request) => {
      await count(request)
      const headers = new Headers()
      headers.append('set-cookie', 'theme=dark; Path=/')
      headers.append('set-cookie', 'lang=en; Path=/')
      return new Response('ok', { headers })
    })
    const cookies = response.headers.getSetCookie()
    expect(cookies).toHaveLength(3)
    expect(cookies.slice(0, 2)).toEqual(['theme=dark; Path=/', 'lang=en; Path=/'])
    expect(sessionCookie(response)).toBeDefined()
  })

  it('gets the cookie also when the handler returns a fetch() response with immutable headers', async () => {
    const upstream = createServer((_, res) =>
      res.writeHead(200, { 'set-cookie': 'up=1' }).end('from upstream'),
    )
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    const { port } = upstream.address() as AddressInfo
    try {
      const { response, body } = await app(new MemoryStore()).send(async (request) => {
        await count(request)
        const proxied = await fetch(`http://127.0.0.1:${port}/`)
        expect(() => proxied.headers.append('x-test', '1')).toThrow(TypeError)
        return proxied
      })
      expect(body).toBe('from upstream')
      expect(response.headers.getSetCookie()[0]).toBe('up=1')
      expect(sessionCookie(response)).toBeDefined()
    } finally {
      upstream.close()
    }
  })

  it('saves nothing and sets no cookie when the handler answers 5xx', async () => {
    const env = await dynamoStore()
    const { response } = await app(env.store).send(async (request) => {
      await count(request)
      return new Response('broke', { status: 500 })
    })
    expect(response.status).toBe(500)
    expect(response.headers.getSetCookie()).toEqual([])
    expect(env.counter.count()).toBe(0)
  })
})

describe('store errors', () => {
  const unreachable = () =>
    new DynamoDBStore({
      tableName: 'sessions',
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })

  let cookie = ''
  beforeAll(async () => {
    const keys = await importSigningKeys([SECRET])
    cookie = await signSessionId(`${'C'.repeat(42)}A`, keys[0] as CryptoKey)
  })

  it('fail closed by default: an error response, no Set-Cookie', async () => {
    const errors: unknown[] = []
    const original = console.error
    console.error = (...args: unknown[]) => errors.push(args)
    try {
      const { response } = await app(unreachable()).send(count, cookie)
      expect(response.status).toBe(503)
      expect(response.headers.getSetCookie()).toEqual([])
      expect(String(errors[0])).toContain('STORE_UNAVAILABLE')
    } finally {
      console.error = original
    }
  })

  it('reach onError typed, with a stable code, and its response is sent', async () => {
    const seen: SessionError[] = []
    const { response, body } = await app(unreachable(), {
      onError: (error) => {
        seen.push(error)
        return new Response('sessions are down', { status: 502 })
      },
    }).send(count, cookie)
    expect(response.status).toBe(502)
    expect(body).toBe('sessions are down')
    expect(seen[0]).toBeInstanceOf(SessionStoreError)
    expect(seen[0]?.code).toBe('STORE_UNAVAILABLE')
    expect(seen[0]?.message).toMatch(/GetItem on table "sessions"/)
  })

  it('fail closed even when the handler swallows the error', async () => {
    const { response } = await app(unreachable(), {
      onError: () => new Response('closed', { status: 503 }),
    }).send(async (request) => {
      await getSession(request)
        .get('count')
        .catch(() => undefined)
      await getSession(request)
        .set('count', 1)
        .catch(() => undefined)
      return new Response('carried on')
    }, cookie)
    expect(response.status).toBe(503)
    expect(response.headers.getSetCookie()).toEqual([])
  })

  it('wraps the errors of a store of your own as SessionStoreError', async () => {
    class BrokenStore extends MemoryStore {
      override async create(): Promise<boolean> {
        throw new Error('disk full')
      }
    }
    const seen: SessionError[] = []
    await app(new BrokenStore(), {
      onError: (error) => {
        seen.push(error)
        return new Response('', { status: 503 })
      },
    }).send(count)
    expect(seen[0]?.code).toBe('STORE_UNAVAILABLE')
    expect(seen[0]?.message).toContain('disk full')
  })
})
