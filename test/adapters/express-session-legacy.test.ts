// The move from connect-dynamodb: sessions written by connect-dynamodb itself keep working under
// this store, each old item read once, then removed from the old table.
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb'
import connectDynamoDB from 'connect-dynamodb'
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expressSessionStore } from '../../src/adapters/express-session.ts'
import { hashSessionId } from '../../src/core/crypto.ts'
import {
  ConnectDynamoDBTable,
  createTable,
  DynamoDBStore,
  listUserSessions,
  MemoryStore,
  type SessionRecord,
  type Store,
} from '../../src/index.ts'
import { createSessionTable, localClient, scanAll, uniqueTableName } from '../support/dynamodb.ts'
import { browser, countingClient, EXPRESS_SECRET, listen } from '../support/express-session.ts'

declare module 'express-session' {
  interface SessionData {
    count: number
    userId: string
  }
}

const DynamoDBSessionStore = expressSessionStore(session)
const FOURTEEN_DAYS_MS = 14 * 86_400_000

/** Only to inject the fault: writing the moved session fails as an unreachable table would. */
class FailingCreateStore extends MemoryStore {
  override async create(_record: SessionRecord): Promise<boolean> {
    throw new Error('table unreachable')
  }
}

const raw = localClient()
let ours: Awaited<ReturnType<typeof countingClient>>
let old: Awaited<ReturnType<typeof countingClient>>
let tableName = ''
let legacyTable = ''
let connectBase = ''
const closers: (() => Promise<void>)[] = []

function app(store: session.Store): Express {
  const app = express()
  app.use(
    session({
      name: 'sid',
      secret: EXPRESS_SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: FOURTEEN_DAYS_MS },
      store,
    }),
  )
  app.post('/seed', (req, res) => {
    req.session.count = Number(req.query.count)
    if (req.query.user) req.session.userId = String(req.query.user)
    res.send('seeded')
  })
  app.get('/read', (req, res) => {
    res.send(String(req.session.count ?? 0))
  })
  app.get('/count', (req, res) => {
    req.session.count = (req.session.count ?? 0) + 1
    res.send(String(req.session.count))
  })
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).send(error.message)
  })
  return app
}

async function serve(expressApp: Express): Promise<string> {
  const server = await listen(expressApp)
  closers.push(server.close)
  return server.base
}

/** A session written by connect-dynamodb itself, over HTTP: its cookie, for the new app. */
async function seedOldSession(count: number, user?: string): Promise<ReturnType<typeof browser>> {
  const client = browser(connectBase)
  await client.fetch(`/seed?count=${count}${user ? `&user=${user}` : ''}`, { method: 'POST' })
  expect(client.cookie).toBeDefined()
  return client
}

function newApp(store: Store = new DynamoDBStore({ client: ours.client, tableName })) {
  const legacy = new ConnectDynamoDBTable({ client: old.client, tableName: legacyTable })
  return serve(app(new DynamoDBSessionStore({ store, legacy })))
}

/** The same browser (its cookie) against another app. */
function moveTo(base: string, from: ReturnType<typeof browser>) {
  const moved = browser(base)
  moved.cookie = from.cookie
  return moved
}

async function oldItem(sid: string) {
  const { Item } = await raw.send(
    new GetItemCommand({ TableName: legacyTable, Key: { id: { S: `sess:${sid}` } }, ConsistentRead: true }),
  )
  return Item
}

beforeAll(async () => {
  ours = await countingClient()
  old = await countingClient()
  tableName = uniqueTableName('express-moved')
  legacyTable = uniqueTableName('connect-legacy')
  await createTable({ client: raw, tableName, maxWaitTime: 30 })
  await createSessionTable(raw, legacyTable, { keyAttribute: 'id' })
  const ConnectStore = connectDynamoDB(session)
  connectBase = await serve(
    app(new ConnectStore({ client: raw, table: legacyTable }) as unknown as session.Store),
  )
})

afterAll(async () => {
  for (const close of closers.splice(0)) await close()
  await ours.close()
  await old.close()
  raw.destroy()
})

describe('the legacy move from a connect-dynamodb table', () => {
  it('keeps every old session working, reading each old item once and removing it', async () => {
    const seeded = await Promise.all([1, 2, 3, 4, 5].map((count) => seedOldSession(count)))
    for (const client of seeded) expect((await oldItem(client.sid ?? ''))?.sess?.S).toContain('"count"')
    const base = await newApp()
    ours.proxy.reset()
    old.proxy.reset()

    const first = moveTo(base, seeded[0] as ReturnType<typeof browser>)
    expect((await first.fetch('/read')).body).toBe('1')
    // The first request: a miss here, the old item read and claimed there, written here.
    expect(ours.calls()).toEqual({ GetItem: 1, PutItem: 1 })
    expect(old.calls()).toEqual({ GetItem: 1, DeleteItem: 1 })

    for (const [index, client] of seeded.entries()) {
      const moved = moveTo(base, client)
      for (let visit = 0; visit < 3; visit++)
        expect((await moved.fetch('/read')).body).toBe(String(index + 1))
    }
    const stats = old.proxy.stats()
    expect(stats.GetItem?.count).toBe(5)
    expect(stats.GetItem?.maxPerKey).toBe(1) // no old item read twice
    expect(stats.DeleteItem?.count).toBe(5)
    expect(stats.DeleteItem?.errors).toEqual({})
    expect(stats.PutItem).toBeUndefined()
    expect(await scanAll(raw, legacyTable)).toEqual([])

    // Here, under the hash of the same id, with the old expiry; writable as any session.
    const sid = seeded[1]?.sid ?? ''
    const { Item: item } = await raw.send(
      new GetItemCommand({ TableName: tableName, Key: { session_id: { S: await hashSessionId(sid) } } }),
    )
    expect(item?.data?.M?.count?.S).toBe('2')
    expect(Math.abs(Number(item?.expire_at?.N) - (Date.now() + FOURTEEN_DAYS_MS) / 1000)).toBeLessThan(30)
    const moved = moveTo(base, seeded[1] as ReturnType<typeof browser>)
    expect((await moved.fetch('/count')).body).toBe('3')
    expect((await moved.fetch('/read')).body).toBe('3')
  })

  it('binds a moved session to its user through the userId field', async () => {
    const user = `user-${Math.random().toString(36).slice(2)}`
    const client = await seedOldSession(7, user)
    const base = await newApp()
    expect((await moveTo(base, client).fetch('/read')).body).toBe('7')
    const sessions = await listUserSessions(new DynamoDBStore({ client: raw, tableName }), user)
    expect(sessions.map(({ key }) => key)).toEqual([await hashSessionId(client.sid ?? '')])
  })

  it('ignores an expired old item: no session, nothing moved', async () => {
    const client = await seedOldSession(9)
    const sid = client.sid ?? ''
    await raw.send(
      new UpdateItemCommand({
        TableName: legacyTable,
        Key: { id: { S: `sess:${sid}` } },
        UpdateExpression: 'SET expires = :past',
        ExpressionAttributeValues: { ':past': { N: String(Math.floor(Date.now() / 1000) - 10) } },
      }),
    )
    const base = await newApp()
    ours.proxy.reset()
    expect((await moveTo(base, client).fetch('/read')).body).toBe('0')
    expect(ours.calls()).toEqual({ GetItem: 1 })
    expect(await oldItem(sid)).toBeDefined() // left for the old table's own cleanup
  })

  it('moves a session once, reading the old item once, when its first requests come together', async () => {
    const client = await seedOldSession(4)
    const base = await newApp()
    ours.proxy.reset()
    old.proxy.reset()
    const bodies = await Promise.all(
      Array.from({ length: 4 }, () =>
        moveTo(base, client)
          .fetch('/read')
          .then(({ body }) => body),
      ),
    )
    expect(bodies).toEqual(['4', '4', '4', '4'])
    // The four requests shared one move: one read and one delete there, one write here.
    expect(old.calls()).toEqual({ GetItem: 1, DeleteItem: 1 })
    expect(ours.proxy.stats().PutItem?.count).toBe(1)
    expect(ours.proxy.stats().PutItem?.errors).toEqual({})
  })

  it('puts the old session back when writing it here fails, so the user is not logged out', async () => {
    const client = await seedOldSession(6)
    const failing = await newApp(new FailingCreateStore())
    const response = await moveTo(failing, client).fetch('/read')
    expect(response.status).toBe(500)
    expect(response.body).toBe('table unreachable')
    expect((await oldItem(client.sid ?? ''))?.sess?.S).toContain('"count":6')
    // Once the table answers again, the move goes through.
    expect((await moveTo(await newApp(), client).fetch('/read')).body).toBe('6')
  })

  it('costs one read of the old table for a cookie that has no session anywhere', async () => {
    const base = await newApp()
    const client = browser(base)
    await client.fetch('/count')
    await raw.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { session_id: { S: await hashSessionId(client.sid ?? '') } },
        UpdateExpression: 'SET expire_at = :past',
        ExpressionAttributeValues: { ':past': { N: String(Math.floor(Date.now() / 1000) - 10) } },
      }),
    )
    old.proxy.reset()
    expect((await client.fetch('/read')).body).toBe('0')
    expect(old.calls()).toEqual({ GetItem: 1 })
  })

  it('refuses bad ConnectDynamoDBTable options with a clear error', () => {
    expect(() => new ConnectDynamoDBTable({ tableName: '' })).toThrow(
      /"tableName" must be a non-empty string/,
    )
    expect(() => new ConnectDynamoDBTable({ prefix: 1 as never })).toThrow(/"prefix" must be a string/)
  })
})
