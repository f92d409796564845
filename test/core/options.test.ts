// Options are checked at factory time in every entry point, and every mistake is one kind of
// error: a ConfigError naming the option and its source. Secrets may be strings, bytes (express's
// Buffer secret) or HMAC CryptoKeys, in the rotating array too.
import { createHmac } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { session as honoSession } from '../../src/adapters/hono.ts'
import { verifySignedSessionId } from '../../src/core/crypto.ts'
import { createSessionManager } from '../../src/core/manager.ts'
import {
  ConfigError,
  checkTable,
  collectGarbage,
  createTable,
  DynamoDBStore,
  getSession,
  loadConfig,
  MemoryStore,
  parseDuration,
  type SessionOptions,
  sessionMiddleware,
} from '../../src/index.ts'
import { scanAll } from '../support/dynamodb.ts'
import { app, count, dynamoStore, OLD_SECRET, readCount, SECRET } from '../support/harness.ts'

/** The ConfigError that `make` throws or rejects with, as its option, source and message. */
async function mistake(make: () => unknown) {
  try {
    await make()
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    const { option, source, message, code } = error as ConfigError
    expect(code).toBe('INVALID_CONFIG')
    return { option, source, message }
  }
  throw new Error('the options were accepted')
}

const store = new MemoryStore()
/** Session options with one mistake, typed loosely: the mistakes are the point. */
const withSession = (options: object) => ({ secretKey: SECRET, store, ...options }) as SessionOptions
const SESSION_OPTION_LIST =
  'secretKey, store, maxStale, maxAge, touchAfter, cookie, trustProxy, encrypt, onError, onEvent'

describe('every session option mistake is a ConfigError naming the option, from each entry point', () => {
  // [the options, the option named, the message]
  const cases: [object, string, string][] = [
    [{ maxStal: 5 }, 'maxStal', 'Unknown Session option "maxStal": did you mean "maxStale"?'],
    [
      { rolling: true },
      'rolling',
      `Unknown Session option "rolling": the options are ${SESSION_OPTION_LIST}.`,
    ],
    [
      { maxStale: 1.5 },
      'maxStale',
      'Session option "maxStale" must be a whole number of seconds, at least 1, not 1.5.',
    ],
    [
      { maxStale: '5h' },
      'maxStale',
      'Session option "maxStale" must be a whole number of seconds, at least 1, not "5h".',
    ],
    [
      { maxAge: 0 },
      'maxAge',
      'Session option "maxAge" must be a whole number of seconds, at least 1, not 0.',
    ],
    [
      { maxStale: 60, touchAfter: 60 },
      'touchAfter',
      'Session option "touchAfter" (60) must be less than "maxStale" (60).',
    ],
    [
      { cookie: { httpOnly: 'no' } },
      'cookie.httpOnly',
      'Session option "cookie.httpOnly" must be true or false, not "no".',
    ],
    [
      { cookie: { secure: 'always' } },
      'cookie.secure',
      `Session option "cookie.secure" must be true, false or 'auto', not "always".`,
    ],
    [
      { cookie: 'sid' },
      'cookie',
      'Session option "cookie" must be an object of cookie options, or a function of the request returning them, not "sid".',
    ],
    [{ encrypt: 'yes' }, 'encrypt', 'Session option "encrypt" must be true or false, not "yes".'],
    [{ onError: 'log' }, 'onError', 'Session option "onError" must be a function, not "log".'],
    [{ trustProxy: 'yes' }, 'trustProxy', 'Session option "trustProxy" must be true or false, not "yes".'],
    [{ onEvent: 'log' }, 'onEvent', 'Session option "onEvent" must be a function, not "log".'],
    [{ onEvnt: () => {} }, 'onEvnt', `Unknown Session option "onEvnt": did you mean "onEvent"?`],
    [
      { store: { load() {} } },
      'store',
      'Session option "store" must be a Store (a DynamoDBStore, a MemoryStore, or an object with load, create, update, touch, delete methods), not an object: it lacks create, update, touch, delete.',
    ],
    [
      { store: undefined },
      'store',
      'Session middleware requires the "store" option: a DynamoDBStore or a MemoryStore.',
    ],
    [
      { secretKey: undefined },
      'secretKey',
      'Session middleware requires the "secretKey" option: a random string of at least 32 characters (or an array of them, newest first), e.g. from `openssl rand -base64 32`.',
    ],
    [
      { secretKey: 'short' },
      'secretKey',
      'Session option "secretKey" must be a string of at least 32 characters, a Uint8Array of at least 32 bytes, or an HMAC-SHA256 CryptoKey, or an array of them; its secret is 5 characters long, under 32: generate one with `openssl rand -base64 32`.',
    ],
    [
      { secretKey: [SECRET, 42] },
      'secretKey',
      'Session option "secretKey" must be a string of at least 32 characters, a Uint8Array of at least 32 bytes, or an HMAC-SHA256 CryptoKey, or an array of them; its secret 1 (counting from 0) is 42, not a string of at least 32 characters, a Uint8Array of at least 32 bytes, or an HMAC-SHA256 CryptoKey.',
    ],
    [
      { secretKey: [] },
      'secretKey',
      'Session option "secretKey" is an empty array: give at least one secret, newest first.',
    ],
  ]

  const entryPoints: [string, (options: SessionOptions) => unknown][] = [
    ['sessionMiddleware', (options) => sessionMiddleware(options)],
    ['createSessionManager', (options) => createSessionManager(options)],
    ['the Hono adapter', (options) => new Hono().use(honoSession(options))],
  ]

  for (const [entryPoint, make] of entryPoints) {
    it(`${entryPoint}: names the option, its source ('code') and what it should be`, async () => {
      for (const [options, option, message] of cases) {
        expect(await mistake(() => make(withSession(options))), JSON.stringify(options)).toEqual({
          option,
          source: 'code',
          message,
        })
      }
    })
  }

  it('refuses options that are not an object at all', async () => {
    expect(await mistake(() => sessionMiddleware(undefined as unknown as SessionOptions))).toEqual({
      option: 'options',
      source: 'code',
      message: 'Session needs an object of options, not undefined.',
    })
  })

  it("lets through the other entry points' options, so one config object configures them all", async () => {
    const config = loadConfig({
      options: { tableName: 'sessions', segments: 4, readCapacity: 5, timeout: 2000, maxStale: 3600 },
    })
    const shared = { ...config, secretKey: SECRET }
    expect(() => sessionMiddleware({ ...shared, store })).not.toThrow()
    expect(() => new DynamoDBStore({ ...shared, region: 'us-east-1' })).not.toThrow()
  })
})

describe('every store, table and gc option mistake is a ConfigError naming the option', () => {
  const base = { tableName: 'sessions', region: 'us-east-1' }

  it('DynamoDBStore', async () => {
    const cases: [object, string, string][] = [
      [
        { tabelName: 't' },
        'tabelName',
        'Unknown DynamoDBStore option "tabelName": did you mean "tableName"?',
      ],
      [
        { touchAftr: 60 },
        'touchAftr',
        // another entry point's option is a fine suggestion too
        'Unknown DynamoDBStore option "touchAftr": did you mean "touchAfter"?',
      ],
      [
        { timeout: '5s' },
        'timeout',
        'DynamoDBStore option "timeout" must be a whole number of milliseconds, at least 1, not "5s".',
      ],
      [
        { consistentRead: 'false' },
        'consistentRead',
        'DynamoDBStore option "consistentRead" must be true or false, not "false".',
      ],
      [
        { compress: 0 },
        'compress',
        'DynamoDBStore option "compress" must be true, false, or a whole number of bytes (1 or more), not 0.',
      ],
      [
        { endpoint: 'localhost:8000' },
        'endpoint',
        'DynamoDBStore option "endpoint" must be a URL such as http://127.0.0.1:8000, not "localhost:8000".',
      ],
      [
        { sortKey: { attribute: 'sk' } },
        'sortKey',
        'DynamoDBStore option "sortKey" needs both an "attribute" name and a string "value" (the value every session item gets).',
      ],
      [
        { sortKey: { attribute: 'sk', valeu: 'x' } },
        'sortKey.valeu',
        'Unknown DynamoDBStore option "sortKey.valeu": did you mean "sortKey.value"?',
      ],
      [{ client: {} }, 'client', 'DynamoDBStore option "client" must be a DynamoDBClient, not an object.'],
      [
        { credentials: 'AKIA…' },
        'credentials',
        'DynamoDBStore option "credentials" must be an object with accessKeyId and secretAccessKey, or a function that resolves to one, not "AKIA…".',
      ],
      [
        { keyAttribute: '' },
        'keyAttribute',
        'DynamoDBStore option "keyAttribute" must be a non-empty string, not "".',
      ],
      [
        { tableName: undefined },
        'tableName',
        'DynamoDBStore requires the "tableName" option: the name of the sessions table.',
      ],
    ]
    for (const [options, option, message] of cases) {
      const make = () => new DynamoDBStore({ ...base, ...options } as never)
      expect(await mistake(make), JSON.stringify(options)).toEqual({ option, source: 'code', message })
    }
  })

  it('collectGarbage, before any call to DynamoDB', async () => {
    const cases: [object, string, string][] = [
      [
        { maxStale: 1.5 },
        'maxStale',
        'collectGarbage option "maxStale" must be a whole number of seconds, at least 1, not 1.5.',
      ],
      [
        { segments: 0 },
        'segments',
        'collectGarbage option "segments" must be a whole number, from 1 to 1000000, not 0.',
      ],
      [
        { rate: -1 },
        'rate',
        'collectGarbage option "rate" must be a number of items per second above 0, not -1.',
      ],
      [
        { maxAttemps: 3 },
        'maxAttemps',
        'Unknown collectGarbage option "maxAttemps": did you mean "maxAttempts"?',
      ],
      [
        { onProgress: 'log' },
        'onProgress',
        'collectGarbage option "onProgress" must be a function, not "log".',
      ],
      [{ signal: {} }, 'signal', 'collectGarbage option "signal" must be an AbortSignal, not an object.'],
      [{ tableName: 5 }, 'tableName', 'collectGarbage option "tableName" must be a non-empty string, not 5.'],
    ]
    for (const [options, option, message] of cases) {
      // No endpoint: a call that got as far as DynamoDB would fail otherwise, not with a ConfigError.
      const make = () => collectGarbage({ ...base, ...options } as never)
      expect(await mistake(make), JSON.stringify(options)).toEqual({ option, source: 'code', message })
    }
  })

  it('createTable and checkTable, before any call to DynamoDB', async () => {
    expect(await mistake(() => createTable({ ...base, readCapacity: 5 }))).toEqual({
      option: 'writeCapacity',
      source: 'code',
      message:
        'createTable option "writeCapacity" is missing: give both readCapacity and writeCapacity for a provisioned table, or neither for on-demand billing.',
    })
    expect(await mistake(() => createTable({ ...base, readCapacity: 1.5, writeCapacity: 1 }))).toEqual({
      option: 'readCapacity',
      source: 'code',
      message:
        'createTable option "readCapacity" must be a whole number of capacity units, at least 1, not 1.5.',
    })
    expect(await mistake(() => createTable({ ...base, maxWaitTime: '5m' } as never))).toEqual({
      option: 'maxWaitTime',
      source: 'code',
      message: 'createTable option "maxWaitTime" must be a number of seconds above 0, not "5m".',
    })
    expect(await mistake(() => checkTable({ ...base, userIndx: 'by-user' } as never))).toEqual({
      option: 'userIndx',
      source: 'code',
      message: 'Unknown checkTable option "userIndx": did you mean "userIndex"?',
    })
  })

  it('loadConfig: unknown names from code, with the source of each mistake', async () => {
    expect(await mistake(() => loadConfig({ options: { maxStal: 5 } as never }))).toEqual({
      option: 'maxStal',
      source: 'code',
      message: 'maxStal in code is not an option; did you mean maxStale?',
    })
    expect(await mistake(() => loadConfig({ options: { cookie: { httpOnyl: true } } as never }))).toEqual({
      option: 'cookie.httpOnyl',
      source: 'code',
      message: 'cookie.httpOnyl in code is not an option; did you mean cookie.httpOnly?',
    })
    expect(
      await mistake(() => loadConfig({ env: { AWS_DYNAMO_DB_SESSION_COOKIE_PRIORITY: 'top' } })),
    ).toEqual({
      option: 'cookie.priority',
      source: 'environment',
      message:
        'AWS_DYNAMO_DB_SESSION_COOKIE_PRIORITY from the environment is "top", not one of low, medium, high.',
    })
    expect(loadConfig({ env: { AWS_DYNAMO_DB_SESSION_COOKIE_PRIORITY: 'High' } }).cookie).toEqual({
      priority: 'high',
    })
  })

  it('parseDuration, which is public, throws a ConfigError too', async () => {
    expect(await mistake(() => parseDuration('5x'))).toEqual({
      option: 'duration',
      source: 'code',
      message:
        'parseDuration: "5x" is not a duration: whole seconds (3600) or a number with s, m, h, d or w (90s, 5m, 5h, 1d, 2w).',
    })
    expect(await mistake(() => parseDuration(1.5))).toMatchObject({ option: 'duration' })
  })
})

/** An HMAC-SHA256 key as a KMS or Secrets Manager integration would hand it over: not extractable. */
const hmacKey = (usages: KeyUsage[] = ['sign', 'verify']) =>
  crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, usages) as Promise<CryptoKey>

/** Keys made once, for the checks that run synchronously. */
const hmacKeySync = {
  full: await hmacKey(),
  verifyOnly: await hmacKey(['verify']),
}

describe('secrets as bytes and as CryptoKeys', () => {
  const servers: { close: () => void }[] = []
  afterAll(() => {
    for (const server of servers) server.close()
  })

  /** The fetch middleware around `count`, served over HTTP on 127.0.0.1. */
  async function serveCounter(options: Partial<SessionOptions>): Promise<string> {
    const middleware = sessionMiddleware({ secretKey: SECRET, store, cookie: { secure: false }, ...options })
    const server = serve({ fetch: (request) => middleware(request, count), port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => server.once('listening', resolve))
    servers.push({ close: () => server.close() })
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  it("signs with a Buffer secret, as express-session's users pass one, over HTTP", async () => {
    const secret = Buffer.from('a secret of thirty-two bytes, or more: 0123456789')
    const base = await serveCounter({ secretKey: secret })
    const first = await fetch(base)
    const cookie = first.headers.getSetCookie()[0]?.split(';')[0] ?? ''
    expect(await first.text()).toBe('1')
    // The signature is HMAC-SHA256 keyed by the bytes themselves.
    const [id, signature] = cookie.replace('sid=', '').split('.')
    expect(signature).toBe(
      createHmac('sha256', secret)
        .update(id ?? '')
        .digest('base64url'),
    )
    // A later change to the caller's buffer changes nothing: the bytes were copied.
    secret.fill(0)
    const second = await fetch(base, { headers: { cookie } })
    expect(await second.text()).toBe('2')
    // The same cookie under another secret is a stranger's: a fresh session.
    const other = await serveCounter({ secretKey: Buffer.alloc(32, 7) })
    expect(await (await fetch(other, { headers: { cookie } })).text()).toBe('1')
  })

  it('signs with an HMAC CryptoKey, and rotates from a string secret to it', async () => {
    const key = await hmacKey()
    const before = app(store, { secretKey: OLD_SECRET })
    const { cookie } = await before.send(count)
    const rotated = app(store, { secretKey: [key, OLD_SECRET] })
    const read = await rotated.send(readCount, cookie?.value)
    expect(read.body).toBe('1')
    // Signed by an older secret: re-signed with the key, which alone now verifies it.
    expect(read.cookie?.id).toBe(cookie?.id)
    expect(await verifySignedSessionId(read.cookie?.value ?? '', [key])).toEqual({
      id: cookie?.id,
      signedWithOlderKey: false,
    })
    expect((await rotated.send(count, read.cookie?.value)).body).toBe('2')
  })

  it('verifies cookies with an older CryptoKey that may only verify', async () => {
    const raw = crypto.getRandomValues(new Uint8Array(32))
    const importAs = (usages: KeyUsage[]) =>
      crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, usages)
    const { cookie } = await app(store, { secretKey: await importAs(['sign', 'verify']) }).send(count)
    const rotated = app(store, { secretKey: [new Uint8Array(32).fill(9), await importAs(['verify'])] })
    const read = await rotated.send(readCount, cookie?.value)
    expect(read.body).toBe('1')
    expect(read.cookie?.id).toBe(cookie?.id) // re-signed with the newest secret
    // Under the bytes alone, the cookie of another key is a stranger's.
    expect(
      (await app(store, { secretKey: new Uint8Array(32).fill(9) }).send(readCount, cookie?.value)).body,
    ).toBe('0')
  })

  it('refuses secrets that cannot sign safely, naming what is wrong', async () => {
    const kinds =
      'must be a string of at least 32 characters, a Uint8Array of at least 32 bytes, or an HMAC-SHA256 CryptoKey, or an array of them'
    const refusal = async (secretKey: unknown) =>
      (await mistake(() => sessionMiddleware(withSession({ secretKey })))).message
    expect(await refusal(new Uint8Array(31))).toBe(
      `Session option "secretKey" ${kinds}; its secret is 31 bytes long, under 32: use crypto.getRandomValues(new Uint8Array(32)).`,
    )
    const aes = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt'])
    expect(await refusal(aes)).toBe(
      `Session option "secretKey" ${kinds}; its secret is a AES-GCM CryptoKey, not HMAC with SHA-256.`,
    )
    const sha512 = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-512' }, false, [
      'sign',
      'verify',
    ])
    expect(await refusal(sha512)).toBe(
      `Session option "secretKey" ${kinds}; its secret is a HMAC SHA-512 CryptoKey, not HMAC with SHA-256.`,
    )
    expect(await refusal([await hmacKey(['verify'])])).toBe(
      `Session option "secretKey" ${kinds}; its secret 0 (counting from 0) is a CryptoKey whose usages lack sign.`,
    )
    // An older key only verifies, so verify is all it needs.
    expect(() =>
      sessionMiddleware(withSession({ secretKey: [SECRET, hmacKeySync.verifyOnly] })),
    ).not.toThrow()
  })

  it('refuses encrypt: true with a CryptoKey secret, saying what to do', async () => {
    expect(
      await mistake(() =>
        sessionMiddleware(withSession({ secretKey: [SECRET, hmacKeySync.full], encrypt: true })),
      ),
    ).toEqual({
      option: 'encrypt',
      source: 'code',
      message:
        'Session option "encrypt" cannot be true with a CryptoKey in "secretKey": sealing needs the secret itself, which a CryptoKey does not give. Give the secrets as strings or Uint8Arrays, or leave encrypt off.',
    })
  })

  it('seals with byte secrets of any length on DynamoDB Local, and unseals after rotating to a string', async () => {
    const env = await dynamoStore()
    const bytes = crypto.getRandomValues(new Uint8Array(48)) // not an AES key size: iron gets it as text
    const remember = async (request: Request) => {
      await getSession(request).set('card', '4111 1111 1111 1111')
      return new Response('ok')
    }
    const { cookie } = await app(env.store, { secretKey: bytes, encrypt: true }).send(remember)
    const dump = JSON.stringify(await scanAll(env.client, env.tableName))
    expect(dump).toContain('Fe26.2*')
    expect(dump).not.toContain('4111')
    const rotated = app(env.store, { secretKey: [SECRET, bytes], encrypt: true })
    const show = async (request: Request) => new Response(String(await getSession(request).get('card')))
    expect((await rotated.send(show, cookie?.value)).body).toBe('4111 1111 1111 1111')
  })
})
