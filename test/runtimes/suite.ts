// One conformance suite for every runtime: plain TypeScript over Web-standard APIs, driven with
// new Request() through the built package, against DynamoDB Local. The runners (node.ts, deno.ts,
// bun.ts, workerd.ts) hand it the package and their environment and print its one JSON line.
import {
  CreateTableCommand,
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
    await createTable(context.store().client, tableName)
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

async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'session_id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'session_id', AttributeType: 'S' }],
    }),
  )
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    if (table?.TableStatus === 'ACTIVE') return
    await sleep(100)
  }
  throw new Error(`table ${tableName} did not become ACTIVE`)
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
