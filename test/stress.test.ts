import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SessionEnv, session } from '../src/adapters/hono.ts'
import { hashSessionId } from '../src/core/crypto.ts'
import { DynamoDBStore } from '../src/index.ts'
import { countCalls, createSessionTable, localClient, uniqueTableName } from './support/dynamodb.ts'
import { SECRET, sessionCookie } from './support/harness.ts'

// Many concurrent requests of the same sessions, spread over two app instances that share one
// table, checked against a model of what each request did. Bounded in count and time.
const SESSIONS = 4
const REQUESTS_PER_SESSION = 60
const CONCURRENCY = 12

type Data = Record<string, number>

describe('concurrent requests of one session, on two instances', () => {
  const client = localClient()
  let tableName = ''
  const instances: { url: string; close: () => void; updates: () => number }[] = []

  beforeAll(async () => {
    tableName = await createSessionTable(client, uniqueTableName())
    for (let index = 0; index < 2; index++) {
      const instanceClient = localClient()
      const counter = countCalls(instanceClient)
      const app = new Hono<SessionEnv<Data>>()
      app.use(session({ secretKey: SECRET, store: new DynamoDBStore({ client: instanceClient, tableName }) }))
      app.post('/set/:key/:value', async (c) => {
        await c.get('session').set(c.req.param('key'), Number(c.req.param('value')))
        return c.text('ok')
      })
      app.post('/logout', async (c) => {
        await c.get('session').destroy()
        return c.text('bye')
      })
      app.get('/', async (c) => c.json(await c.get('session').all()))
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
      await new Promise((resolve) => server.once('listening', resolve))
      const { port } = server.address() as AddressInfo
      instances.push({
        url: `http://127.0.0.1:${port}`,
        close: () => server.close(),
        updates: () => counter.count('UpdateItemCommand'),
      })
    }
  })
  afterAll(() => {
    for (const instance of instances) instance.close()
  })

  const send = async (index: number, path: string, cookie: string, method = 'POST') => {
    const instance = instances[index % instances.length]
    const response = await fetch(`${instance?.url}${path}`, { method, headers: { cookie: `sid=${cookie}` } })
    return { status: response.status, body: await response.text(), cookie: sessionCookie(response) }
  }

  /** Runs `tasks` with at most `limit` in flight. */
  async function pool(tasks: (() => Promise<unknown>)[], limit: number) {
    const running = new Set<Promise<unknown>>()
    for (const task of tasks) {
      const promise = task().finally(() => running.delete(promise))
      running.add(promise)
      if (running.size >= limit) await Promise.race(running)
    }
    await Promise.all(running)
  }

  it('keeps every change to different keys, and a whole value for the key all of them change', async () => {
    const started = Date.now()
    const cookies: string[] = []
    for (let index = 0; index < SESSIONS; index++) {
      const created = await send(index, '/set/created/1', '')
      cookies.push(created.cookie?.value ?? '')
    }
    const statuses: number[] = []
    const tasks = cookies.flatMap((cookie, sessionIndex) =>
      Array.from({ length: REQUESTS_PER_SESSION }, (_, request) => async () => {
        // Every request sets its own key, and all of them race on `last`.
        const own = await send(request, `/set/k${request}/${request}`, cookie)
        const shared = await send(request + 1, `/set/last/${request}`, cookie)
        statuses.push(own.status, shared.status)
        return sessionIndex
      }),
    )
    await pool(tasks, CONCURRENCY)

    expect(statuses.every((status) => status === 200)).toBe(true)
    for (const cookie of cookies) {
      const data = JSON.parse((await send(0, '/', cookie, 'GET')).body) as Data
      const expected: Data = { created: 1 }
      for (let request = 0; request < REQUESTS_PER_SESSION; request++) expected[`k${request}`] = request
      const { last, ...rest } = data
      expect(rest).toEqual(expected)
      expect(last).toBeGreaterThanOrEqual(0)
      expect(last).toBeLessThan(REQUESTS_PER_SESSION)
    }
    const requests = SESSIONS * REQUESTS_PER_SESSION * 2
    const updates = instances.reduce((sum, instance) => sum + instance.updates(), 0)
    console.log(
      `stress: ${requests} writes of ${SESSIONS} sessions on 2 instances in ${Date.now() - started} ms, ` +
        `${updates} UpdateItem calls (per-key updates need no retries)`,
    )
    expect(updates).toBe(requests)
  })

  it('lets no request in flight bring back a session logged out meanwhile', async () => {
    const { cookie } = await send(0, '/set/user/1', '')
    const value = cookie?.value ?? ''
    const writes = Array.from(
      { length: 40 },
      (_, request) => () => send(request, `/set/k${request}/1`, value),
    )
    const logout = () => send(1, '/logout', value)
    await pool([...writes.slice(0, 20), logout, ...writes.slice(20)], CONCURRENCY)
    const { Item } = await client.send(getItem(tableName, await hashSessionId(cookie?.id ?? '')))
    expect(Item).toBeUndefined()
    expect((await send(0, '/', value, 'GET')).body).toBe('{}')
  })
})

import { GetItemCommand } from '@aws-sdk/client-dynamodb'

function getItem(tableName: string, key: string) {
  return new GetItemCommand({ TableName: tableName, Key: { session_id: { S: key } }, ConsistentRead: true })
}
