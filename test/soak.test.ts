import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SessionEnv, session } from '../src/adapters/hono.ts'
import { DynamoDBStore } from '../src/index.ts'
import { createSessionTable, localClient, uniqueTableName } from './support/dynamodb.ts'
import { SECRET } from './support/harness.ts'

// A bounded soak on 127.0.0.1: mixed traffic for SOAK_SECONDS (default 20; `npm run soak` runs
// 60), then the heap after garbage collection at the middle and at the end of the run.
const SECONDS = Number(process.env.SOAK_SECONDS ?? 20)
const CLIENTS = 8

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
const heapAfterGc = () => {
  collectGarbage()
  return process.memoryUsage().heapUsed
}

describe('a soak of mixed traffic', () => {
  let url = ''
  let close = () => {}

  beforeAll(async () => {
    const client = localClient()
    const tableName = await createSessionTable(client, uniqueTableName())
    const app = new Hono<SessionEnv<{ count: number; user: string }>>()
    app.get('/static', (c) => c.text('no session'))
    app.use(
      session({
        secretKey: SECRET,
        store: new DynamoDBStore({ client, tableName }),
        cookie: { secure: false },
      }),
    )
    app.get('/', async (c) => {
      const count = ((await c.get('session').get('count')) ?? 0) + 1
      await c.get('session').set('count', count)
      return c.text(String(count))
    })
    app.get('/read', async (c) => c.text(String((await c.get('session').get('user')) ?? 'anonymous')))
    app.post('/login', async (c) => {
      await c.get('session').regenerate()
      await c.get('session').set('user', 'soak')
      return c.text('in')
    })
    app.post('/logout', async (c) => {
      await c.get('session').destroy()
      return c.text('out')
    })
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    close = () => server.close()
  })
  afterAll(() => close())

  it(
    `serves ${SECONDS} s of traffic without an error response, and its memory stops growing`,
    async () => {
      const routes = [
        ['GET', '/'],
        ['GET', '/'],
        ['GET', '/read'],
        ['GET', '/read'],
        ['GET', '/static'],
        ['POST', '/login'],
        ['POST', '/logout'],
      ] as const
      const statuses = new Map<number, number>()
      const heap: number[] = []
      let requests = 0
      const started = Date.now()
      const deadline = started + SECONDS * 1000
      const sampler = setInterval(() => heap.push(heapAfterGc()), 1000)

      const client = async (seed: number) => {
        let cookie = ''
        for (let turn = seed; Date.now() < deadline; turn++) {
          const [method, path] = routes[(turn * 7 + seed) % routes.length] ?? routes[0]
          const response = await fetch(`${url}${path}`, { method, headers: cookie ? { cookie } : {} })
          await response.text()
          requests++
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
          const setCookie = response.headers.getSetCookie()[0]
          if (setCookie) cookie = setCookie.includes('Max-Age=0') ? '' : (setCookie.split(';')[0] ?? '')
        }
      }
      await Promise.all(Array.from({ length: CLIENTS }, (_, seed) => client(seed)))
      clearInterval(sampler)
      heap.push(heapAfterGc())

      const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1)
      const middle = heap[Math.floor(heap.length / 2)] ?? 0
      const end = heap.at(-1) ?? 0
      console.log(
        `soak: ${requests} requests in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
          `(${Math.round(requests / SECONDS)}/s, ${CLIENTS} clients), statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
          `heap after GC: first ${mb(heap[0] ?? 0)} MB, middle ${mb(middle)} MB, end ${mb(end)} MB, max ${mb(Math.max(...heap))} MB`,
      )
      expect([...statuses.keys()]).toEqual([200])
      expect(requests).toBeGreaterThan(SECONDS * 50)
      // Growing without bound would show as the second half adding what the first half did.
      expect(end - middle).toBeLessThan(Math.max(8 * 2 ** 20, (middle - (heap[0] ?? 0)) / 2))
    },
    (SECONDS + 30) * 1000,
  )
})
