// The hot path of one request, piece by piece, in microseconds: cookie verification, id hashing,
// the dirty check, the store's (de)serialization (with a client that does no I/O), and whole
// requests through the middleware on MemoryStore. Run by `npm run bench`, or alone with
// `npx vitest bench --run --config bench/micro/vitest.config.ts`.
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { bench, describe } from 'vitest'
import { changedKeys, snapshot } from '../../src/core/changes.ts'
import {
  createSessionId,
  hashSessionId,
  importSigningKeys,
  signSessionId,
  verifySignedSessionId,
} from '../../src/core/crypto.ts'
import { DynamoDBStore, getSession } from '../../src/index.ts'
import { SECRET } from '../apps/hono.ts'
import { probeCompression } from '../compression.ts'
import { largeSession, smallSession } from '../data.ts'
import { COMPRESS_OPTIONS } from '../systems.ts'
import { memoryMiddleware } from './memory-middleware.ts'

const keys = await importSigningKeys([SECRET])
const key = keys[0] as CryptoKey
const id = createSessionId()
const signed = await signSessionId(id, key)

describe('cookie and id', () => {
  bench('verify a signed cookie (HMAC-SHA256)', async () => {
    await verifySignedSessionId(signed, keys)
  })
  bench('sign a session id', async () => {
    await signSessionId(id, key)
  })
  bench('hash a session id to its store key (SHA-256)', async () => {
    await hashSessionId(id)
  })
  bench('create a session id (32 random bytes)', () => {
    createSessionId()
  })
})

const small = smallSession(1)
const large = largeSession(1)
describe('dirty check (compares every value as JSON)', () => {
  const smallRead = snapshot(small)
  const largeRead = snapshot(large)
  bench('small session (6 keys), unchanged', () => {
    changedKeys(smallRead, small)
  })
  bench('large session (50 KB), unchanged', () => {
    changedKeys(largeRead, large)
  })
})

/** A store whose client answers at once: only the store's own work is measured. */
function offlineStore(
  stored: Record<string, AttributeValue> | undefined,
  options: Record<string, unknown> = {},
) {
  const client = {
    send: async () => (stored ? { Item: stored } : {}),
  } as unknown as DynamoDBClient
  return new DynamoDBStore({ tableName: 'bench', client, ...options })
}

async function storedItem(
  data: Record<string, unknown>,
  options: Record<string, unknown> = {},
): Promise<Record<string, AttributeValue>> {
  let item: Record<string, AttributeValue> | undefined
  const client = {
    send: async (command: { input: { Item: Record<string, AttributeValue> } }) => {
      item = command.input.Item
      return {}
    },
  } as unknown as DynamoDBClient
  const now = Math.floor(Date.now() / 1000)
  await new DynamoDBStore({ tableName: 'bench', client, ...options }).create({
    key: 'k',
    data,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 3600,
  })
  return item as Record<string, AttributeValue>
}

describe('DynamoDBStore serialization (no I/O)', async () => {
  const now = Math.floor(Date.now() / 1000)
  const record = (data: Record<string, unknown>) => ({
    key: 'k',
    data,
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 3600,
  })
  const smallStore = offlineStore(await storedItem(small))
  const largeStore = offlineStore(await storedItem(large))
  bench('load: small item to session data', async () => {
    await smallStore.load('k')
  })
  bench('load: 50 KB item to session data', async () => {
    await largeStore.load('k')
  })
  bench('update one key of a small session', async () => {
    await smallStore.update(record(small), ['count'])
  })
  bench('update one key of a 50 KB session', async () => {
    await largeStore.update(record(large), ['count'])
  })
  // Only once DynamoDBStore has the option: otherwise these would repeat the rows above.
  if ((await probeCompression()).supported) {
    const compressed = offlineStore(await storedItem(large, COMPRESS_OPTIONS), COMPRESS_OPTIONS)
    const label = JSON.stringify(COMPRESS_OPTIONS)
    bench(`load: 50 KB item to session data, ${label}`, async () => {
      await compressed.load('k')
    })
    bench(`update one key of a 50 KB session, ${label}`, async () => {
      await compressed.update(record(large), ['count'])
    })
  }
})

describe('one request through the middleware (MemoryStore)', async () => {
  const { withSession, cookie } = await memoryMiddleware(small)
  const sealed = await memoryMiddleware(small, true)
  const large = await memoryMiddleware(largeSession(2))
  const request = (path: string, cookieHeader?: string) =>
    new Request(`http://bench${path}`, cookieHeader ? { headers: { cookie: cookieHeader } } : {})
  let counter = 0

  bench('no middleware: Request and Response only (the floor)', async () => {
    await ((_: Request) => new Response('ok'))(request('/none', cookie))
  })
  bench('no cookie, session unused (W1)', async () => {
    await withSession(request('/none'), () => new Response('ok'))
  })
  bench('cookie, session unused (W5)', async () => {
    await withSession(request('/none', cookie), () => new Response('ok'))
  })
  bench('cookie, read one value (W2)', async () => {
    await withSession(
      request('/read', cookie),
      async (r) => new Response(String(await getSession(r).get('user'))),
    )
  })
  bench('cookie, change one value (W3)', async () => {
    await withSession(request('/write', cookie), async (r) => {
      await getSession(r).set('count', ++counter)
      return new Response('ok')
    })
  })
  bench('cookie, read one value, encrypt: true', async () => {
    await sealed.withSession(
      request('/read', sealed.cookie),
      async (r) => new Response(String(await getSession(r).get('user'))),
    )
  })
  bench('cookie, change one value, encrypt: true', async () => {
    await sealed.withSession(request('/write', sealed.cookie), async (r) => {
      await getSession(r).set('count', ++counter)
      return new Response('ok')
    })
  })
  bench('cookie, read one value of a 50 KB session (W6r)', async () => {
    await large.withSession(
      request('/large/read', large.cookie),
      async (r) => new Response(String(await getSession(r).get('user'))),
    )
  })
})
