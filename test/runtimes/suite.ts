// One conformance suite for every runtime: plain TypeScript over Web-standard APIs, driven with
// new Request() through the built package, against DynamoDB Local. The runners (node.ts, deno.ts,
// bun.ts, workerd.ts) hand it the package and their environment and print its one JSON line.
import {
  type AttributeValue,
  DescribeTableCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb'
import type * as Package from '../../src/index.ts'
import { assert, equal, notEqual } from './assert.ts'

/** What a runner passes in: the package as built (dist/index.js), and where DynamoDB Local is. */
export interface SuiteInput {
  lib: typeof Package
  runtime: string
  endpoint: string
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** A cookie minted on another runtime, and the table and secret it belongs to. */
  foreign?: { cookie: string; table: string } | undefined
  /** Runs only the cases whose names start with this. */
  only?: string | undefined
}

export interface CaseResult {
  name: string
  ok: boolean
  ms: number
  /** True for a case with nothing to do here, e.g. no foreign cookie to read. */
  skipped?: boolean
  error?: string
}

export interface SuiteReport {
  runtime: string
  ok: boolean
  ms: number
  results: CaseResult[]
  /** A cookie this run minted, with its table, for another runtime to read (see `foreign`). */
  minted?: { cookie: string; table: string } | undefined
}

interface Context extends SuiteInput {
  tableName: string
  store(): Package.DynamoDBStore
  /** Records the command names that `client` sends from now on. */
  count(client: DynamoDBClient): string[]
  minted?: { cookie: string; table: string }
}

interface Case {
  name: string
  /** Resolves 'skipped' when there is nothing to check in this run. */
  run(context: Context): Promise<'skipped' | undefined>
}

/** Handles one request; a Response it returns is the response, anything else answers 'ok'. */
type Handler = (session: Package.Session) => unknown

const SECRET = 'runtime-suite-secret-0123456789abcdef'
const OLD_SECRET = 'runtime-suite-old-secret-0123456789abc'
/** The value the cross-runtime cookie carries. */
export const CROSS_VALUE = 'minted elsewhere'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** One request through `middleware`; the handler gets the session, its return value is the body. */
async function send(
  lib: typeof Package,
  middleware: ReturnType<typeof Package.sessionMiddleware>,
  cookie: string | undefined,
  handler: Handler,
): Promise<{ response: Response; cookie: string | undefined; setCookie: string | null; body: string }> {
  const request = new Request('http://127.0.0.1/', { headers: cookie ? { cookie } : {} })
  const response = await middleware(request, async (request) => {
    const result = await handler(lib.getSession(request))
    return result instanceof Response ? result : new Response('ok')
  })
  const setCookie = response.headers.get('set-cookie')
  const pair = setCookie?.split(';')[0]
  return { response, setCookie, body: await response.text(), cookie: pair ?? cookie }
}

const json = (value: unknown) => new Response(JSON.stringify(value ?? null))

async function itemCount(client: DynamoDBClient, tableName: string): Promise<number> {
  const page = await client.send(new ScanCommand({ TableName: tableName, Select: 'COUNT' }))
  return page.Count ?? 0
}

/** Every item of the table, raw. */
async function scanAll(client: DynamoDBClient, tableName: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = []
  let start: Record<string, AttributeValue> | undefined
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }))
    items.push(...(page.Items ?? []))
    start = page.LastEvaluatedKey
  } while (start)
  return items
}

/**
 * The store key of a `sid=<id>.<signature>` cookie as the README defines it: the base64url
 * SHA-256 of the id, computed here with WebCrypto rather than by the package.
 */
async function storeKeyOf(cookie: string | undefined): Promise<string> {
  const id = idOf(cookie)
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)))
  let binary = ''
  for (const byte of digest) binary += String.fromCharCode(byte)
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

/** The session id in a `sid=<id>.<signature>` cookie. */
function idOf(cookie: string | undefined): string {
  const id = cookie?.split('=')[1]?.split('.')[0]
  assert(id, `a session cookie: ${cookie}`)
  return id
}

/** The stored expiry (epoch seconds) of the one session holding `marker`. */
async function storedExpiry(client: DynamoDBClient, tableName: string, marker: string): Promise<number> {
  const { Items: items = [] } = await client.send(new ScanCommand({ TableName: tableName }))
  const item = items.find((item) => item.data?.M?.marker?.S === JSON.stringify(marker))
  assert(item?.expire_at?.N, `a stored session holding ${marker}`)
  return Number(item.expire_at.N)
}

export const cases: Case[] = [
  {
    name: 'lazy load: an untouched session costs no DynamoDB call and no Set-Cookie',
    async run({ lib, store, count }) {
      const s = store()
      const calls = count(s.client)
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: s })
      const fresh = await send(lib, middleware, undefined, () => undefined)
      equal(fresh.setCookie, null, 'Set-Cookie without a cookie')
      const created = await send(lib, middleware, undefined, (session) => session.set('n', 1))
      assert(created.setCookie, 'a new session sets a cookie')
      calls.length = 0
      const untouched = await send(lib, middleware, created.cookie, () => undefined)
      equal(untouched.setCookie, null, 'Set-Cookie with an untouched cookie')
      equal(calls.length, 0, `DynamoDB calls (${calls.join(', ')})`)
    },
  },
  {
    name: 'dirty check: reading and setting an equal value writes nothing',
    async run({ lib, store, count }) {
      const s = store()
      const calls = count(s.client)
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: s })
      const created = await send(lib, middleware, undefined, (session) =>
        session.set('user', { name: 'ada' }),
      )
      calls.length = 0
      const again = await send(lib, middleware, created.cookie, async (session) => {
        const user = await session.get('user')
        await session.set('user', { name: 'ada' })
        return json(user)
      })
      equal(again.body, '{"name":"ada"}', 'value read back')
      equal(calls.join(','), 'GetItemCommand', 'DynamoDB calls')
      equal(again.setCookie, null, 'Set-Cookie')
    },
  },
  {
    name: 'secret rotation: a cookie signed by the old secret is accepted and re-signed',
    async run({ lib, store }) {
      const s = store()
      const before = lib.sessionMiddleware({ secretKey: OLD_SECRET, store: s })
      const rotated = lib.sessionMiddleware({ secretKey: [SECRET, OLD_SECRET], store: s })
      const onlyNew = lib.sessionMiddleware({ secretKey: SECRET, store: s })
      const created = await send(lib, before, undefined, (session) => session.set('n', 7))
      const read = await send(lib, rotated, created.cookie, async (session) => json(await session.get('n')))
      equal(read.body, '7', 'value under the rotated secrets')
      assert(read.setCookie, 'the rotated middleware re-signs the cookie')
      notEqual(read.cookie, created.cookie, 're-signed cookie')
      const withNew = await send(lib, onlyNew, read.cookie, async (session) => json(await session.get('n')))
      equal(withNew.body, '7', 'value with the re-signed cookie under the new secret alone')
      const withOld = await send(lib, onlyNew, created.cookie, async (session) =>
        json(await session.get('n')),
      )
      equal(withOld.body, 'null', 'value with the old cookie once the old secret is retired')
    },
  },
  {
    name: 'regenerate: a new id, and the old cookie is dead',
    async run({ lib, store }) {
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: store() })
      const created = await send(lib, middleware, undefined, (session) => session.set('n', 1))
      let oldId = ''
      let newId = ''
      const moved = await send(lib, middleware, created.cookie, async (session) => {
        await session.get('n')
        oldId = session.id
        await session.regenerate()
        newId = session.id
        return undefined
      })
      notEqual(newId, oldId, 'session id after regenerate')
      assert(moved.setCookie, 'regenerate sets a cookie')
      notEqual(moved.cookie, created.cookie, 'cookie after regenerate')
      const viaNew = await send(lib, middleware, moved.cookie, async (session) =>
        json(await session.get('n')),
      )
      equal(viaNew.body, '1', 'value under the new cookie')
      const viaOld = await send(lib, middleware, created.cookie, async (session) =>
        json(await session.get('n')),
      )
      equal(viaOld.body, 'null', 'value under the old cookie')
    },
  },
  {
    name: 'destroy: the cookie is expired and the item is gone',
    async run({ lib, store, tableName }) {
      const s = store()
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: s })
      const created = await send(lib, middleware, undefined, (session) => session.set('n', 1))
      const items = await itemCount(s.client, tableName)
      const destroyed = await send(lib, middleware, created.cookie, (session) => session.destroy())
      assert(destroyed.setCookie, 'destroy sends a Set-Cookie')
      assert(/max-age=0/i.test(destroyed.setCookie), `an expired cookie: ${destroyed.setCookie}`)
      equal(await itemCount(s.client, tableName), items - 1, 'items in the table')
      const after = await send(lib, middleware, created.cookie, async (session) =>
        json(await session.get('n')),
      )
      equal(after.body, 'null', 'value under the destroyed cookie')
    },
  },
  {
    name: 'expiry: a read after touchAfter extends the expiry, and an idle session expires after maxStale',
    async run({ lib, store, tableName }) {
      const s = store()
      // maxStale 3 rather than 2 s: the read below must land before the first expiry even when
      // the machine is loaded (the expiry times are whole seconds).
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: s, maxStale: 3, touchAfter: 1 })
      const marker = `expiry-${Math.random().toString(36).slice(2)}`
      const read: Handler = async (session) => json(await session.get('marker'))
      // Start just after a second begins, so the read lands about 1.3 s into the session's life.
      await sleep(1050 - (Date.now() % 1000))
      const created = await send(lib, middleware, undefined, (session) => session.set('marker', marker))
      const createdExpiry = await storedExpiry(s.client, tableName, marker)
      await sleep(1250)
      equal(
        (await send(lib, middleware, created.cookie, read)).body,
        JSON.stringify(marker),
        'value after 1.25 s',
      )
      const touchedExpiry = await storedExpiry(s.client, tableName, marker)
      assert(
        touchedExpiry > createdExpiry,
        `the read touched the expiry: ${createdExpiry} → ${touchedExpiry}`,
      )
      // Idle from here: gone once the extended expiry has passed.
      await sleep(touchedExpiry * 1000 + 100 - Date.now())
      equal((await send(lib, middleware, created.cookie, read)).body, 'null', 'value after the expiry')
    },
  },
  {
    name: 'flash: readable once, on a later request',
    async run({ lib, store }) {
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: store() })
      const first = await send(lib, middleware, undefined, async (session) => {
        await session.flash('notice', 'saved')
        return json(await session.get('notice'))
      })
      equal(first.body, 'null', 'flash on the request that set it')
      const read: Handler = async (session) => json(await session.get('notice'))
      equal((await send(lib, middleware, first.cookie, read)).body, '"saved"', 'flash on the next request')
      equal((await send(lib, middleware, first.cookie, read)).body, 'null', 'flash on the one after')
    },
  },
  {
    name: 'conditional writes: a write after destroy does not resurrect the session',
    async run({ lib, store, tableName }) {
      const s = store()
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: s })
      const created = await send(lib, middleware, undefined, (session) => session.set('n', 1))
      const items = await itemCount(s.client, tableName)
      let loaded!: () => void
      let resume!: () => void
      const hasLoaded = new Promise<void>((resolve) => {
        loaded = resolve
      })
      const resumed = new Promise<void>((resolve) => {
        resume = resolve
      })
      const slow = send(lib, middleware, created.cookie, async (session) => {
        equal(await session.get('n'), 1, 'value before the destroy')
        loaded()
        await resumed
        await session.set('n', 2)
        return undefined
      })
      await hasLoaded
      await send(lib, middleware, created.cookie, (session) => session.destroy())
      resume()
      await slow
      equal(await itemCount(s.client, tableName), items - 1, 'items in the table')
      const after = await send(lib, middleware, created.cookie, async (session) =>
        json(await session.get('n')),
      )
      equal(after.body, 'null', 'value under the destroyed cookie')
    },
  },
  {
    name: 'encryption at rest: a value set is read back on the next request, and the table holds no plaintext of it',
    async run({ lib, store, tableName }) {
      const s = store()
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: s, encrypt: true })
      const card = `4111-${Math.random().toString(36).slice(2)}`
      const profile = { name: `ada-${Math.random().toString(36).slice(2)}`, card }
      const created = await send(lib, middleware, undefined, (session) => session.set('profile', profile))
      assert(created.setCookie, 'a new session sets a cookie')
      const key = await storeKeyOf(created.cookie)
      const items = await scanAll(s.client, tableName)
      const item = items.find((item) => item.session_id?.S === key)
      assert(item, `the session's item, under the SHA-256 of its id (${key})`)
      const stored = item.data?.M?.profile?.S
      assert(stored?.startsWith('{"$sealed":"Fe26.2*'), `profile stored sealed: ${stored}`)
      const dump = JSON.stringify(items)
      for (const plain of [card, profile.name, JSON.stringify(profile)]) {
        assert(!dump.includes(plain), `the table holds the plaintext ${plain}`)
      }
      const read = await send(lib, middleware, created.cookie, async (session) =>
        json(await session.get('profile')),
      )
      equal(read.body, JSON.stringify(profile), 'value read back on the next request')
      equal(read.setCookie, null, 'Set-Cookie on the read')
    },
  },
  {
    name: 'log out everywhere: destroyUserSessions ends the other session of the user, and keeps the except one',
    async run({ lib, store, tableName }) {
      const s = store()
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store: s })
      const userId = `user-${Math.random().toString(36).slice(2)}`
      const login = (device: string) => async (session: Package.Session) => {
        await session.setUser(userId)
        await session.set('device', device)
      }
      const whoAmI: Handler = async (session) =>
        json({ user: (await session.getUser()) ?? null, device: (await session.get('device')) ?? null })
      const laptop = await send(lib, middleware, undefined, login('laptop'))
      const phone = await send(lib, middleware, undefined, login('phone'))
      const [laptopKey, phoneKey] = [await storeKeyOf(laptop.cookie), await storeKeyOf(phone.cookie)]
      notEqual(laptopKey, phoneKey, 'store keys of the two sessions')

      const listed = await lib.listUserSessions(s, userId)
      equal(
        JSON.stringify(listed.map(({ key }) => key).sort()),
        JSON.stringify([laptopKey, phoneKey].sort()),
        'store keys listed for the user',
      )
      for (const session of listed) {
        assert(
          session.createdAt > 0 &&
            session.updatedAt >= session.createdAt &&
            session.expiresAt > session.updatedAt,
          `listed times: ${JSON.stringify(session)}`,
        )
        for (const cookie of [laptop.cookie, phone.cookie]) {
          assert(!JSON.stringify(session).includes(idOf(cookie)), 'a listed session holds a cookie id')
        }
      }

      // From the laptop: "log out of all other devices".
      const ended = await send(lib, middleware, laptop.cookie, async (session) =>
        json(await lib.destroyUserSessions(s, userId, { except: session, settleMs: 100 })),
      )
      equal(ended.body, '1', 'sessions ended')
      const keys = (await scanAll(s.client, tableName)).map((item) => item.session_id?.S)
      assert(keys.includes(laptopKey), 'the except session is still in the table')
      assert(!keys.includes(phoneKey), 'the ended session is gone from the table')
      equal(
        JSON.stringify((await lib.listUserSessions(s, userId)).map(({ key }) => key)),
        JSON.stringify([laptopKey]),
        'store keys listed after the logout',
      )

      const kept = await send(lib, middleware, laptop.cookie, whoAmI)
      equal(
        kept.body,
        JSON.stringify({ user: userId, device: 'laptop' }),
        'the except session after the logout',
      )
      equal(kept.setCookie, null, 'Set-Cookie for the except session')
      const gone = await send(lib, middleware, phone.cookie, whoAmI)
      equal(gone.body, JSON.stringify({ user: null, device: null }), 'the ended session after the logout')
      // A fresh session: a write under the ended cookie starts a new id, and does not bring it back.
      const again = await send(lib, middleware, phone.cookie, (session) =>
        session.set('device', 'phone again'),
      )
      assert(again.setCookie, 'a write under the ended cookie sets a new cookie')
      notEqual(idOf(again.cookie), idOf(phone.cookie), 'session id after a write under the ended cookie')
      const after = (await scanAll(s.client, tableName)).map((item) => item.session_id?.S)
      assert(!after.includes(phoneKey), 'the ended session stays gone')
      equal(
        (await lib.listUserSessions(s, userId)).length,
        1,
        'sessions of the user after a write under the ended cookie',
      )
    },
  },
  {
    name: 'cross-runtime: mints a cookie for another runtime',
    async run(context) {
      const middleware = context.lib.sessionMiddleware({ secretKey: SECRET, store: context.store() })
      const minted = await send(context.lib, middleware, undefined, (session) =>
        session.set('origin', `${CROSS_VALUE} (${context.runtime})`),
      )
      assert(minted.cookie, 'a minted cookie')
      context.minted = { cookie: minted.cookie, table: context.tableName }
    },
  },
  {
    name: 'cross-runtime: accepts a cookie minted on another runtime',
    async run(context) {
      const { lib, foreign } = context
      if (!foreign) return 'skipped' // run alone: nothing minted elsewhere to read
      const store = new lib.DynamoDBStore({ tableName: foreign.table, ...connection(context) })
      const middleware = lib.sessionMiddleware({ secretKey: SECRET, store })
      const read = await send(lib, middleware, foreign.cookie, async (session) =>
        json(await session.get('origin')),
      )
      assert(read.body.startsWith(`"${CROSS_VALUE}`), `value under the foreign cookie: ${read.body}`)
      equal(read.setCookie, null, 'Set-Cookie')
    },
  },
]

function connection({ endpoint, credentials }: SuiteInput) {
  return { endpoint, region: 'us-east-1', credentials }
}

/** Creates this run's table, runs every case in order, and reports each one. */
export async function runSuite(input: SuiteInput): Promise<SuiteReport> {
  const started = Date.now()
  const tableName = `runtimes-${input.runtime}-${started.toString(36)}-${Math.random().toString(36).slice(2, 8)}`
  const stores: Package.DynamoDBStore[] = []
  let counters = 0
  const context: Context = {
    ...input,
    tableName,
    store() {
      const store = new input.lib.DynamoDBStore({ tableName, ...connection(input) })
      stores.push(store)
      return store
    },
    count(client) {
      const calls: string[] = []
      counters += 1
      client.middlewareStack.add(
        (next, context) => (args) => {
          calls.push(context.commandName ?? 'unknown')
          return next(args)
        },
        { step: 'initialize', name: `runtimeSuiteCount${counters}` },
      )
      return calls
    },
  }
  const results: CaseResult[] = []
  try {
    await createTable(input.lib, context.store().client, tableName)
    for (const testCase of cases.filter((c) => !input.only || c.name.startsWith(input.only))) {
      const caseStarted = Date.now()
      try {
        const skipped = (await testCase.run(context)) === 'skipped'
        results.push({
          name: testCase.name,
          ok: true,
          ms: Date.now() - caseStarted,
          ...(skipped && { skipped }),
        })
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        results.push({ name: testCase.name, ok: false, ms: Date.now() - caseStarted, error: message })
      }
    }
  } catch (error) {
    results.push({ name: 'create the table', ok: false, ms: Date.now() - started, error: String(error) })
  } finally {
    for (const store of stores) store.client.destroy()
  }
  return {
    runtime: input.runtime,
    ok: results.every((result) => result.ok),
    ms: Date.now() - started,
    results,
    minted: context.minted,
  }
}

/**
 * The run's table, made by the package's own createTable() as production would make it: with the
 * keys-only user index that listUserSessions() and destroyUserSessions() query, and TTL.
 */
async function createTable(lib: typeof Package, client: DynamoDBClient, tableName: string): Promise<void> {
  const report = await lib.createTable({ tableName, client, maxWaitTime: 60 })
  assert(report.created && report.problems.length === 0, `createTable: ${JSON.stringify(report)}`)
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
  const index = table?.GlobalSecondaryIndexes?.find(({ IndexName }) => IndexName === 'user_id-index')
  equal(index?.Projection?.ProjectionType, 'KEYS_ONLY', 'projection of the user index')
}

/** Reads the runner's environment: where DynamoDB Local is, and a foreign cookie to read, if any. */
export function inputFromEnv(
  lib: typeof Package,
  runtime: string,
  env: Record<string, string | undefined>,
): SuiteInput {
  const endpoint = env.DYNAMODB_ENDPOINT
  if (!endpoint) throw new Error('Set DYNAMODB_ENDPOINT, e.g. http://127.0.0.1:8000 (npm run dynamodb-local)')
  const foreign =
    env.FOREIGN_COOKIE && env.FOREIGN_TABLE
      ? { cookie: env.FOREIGN_COOKIE, table: env.FOREIGN_TABLE }
      : undefined
  const credentials = {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'local',
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'local',
  }
  return { lib, runtime, endpoint, credentials, foreign, only: env.SUITE_ONLY }
}
