// Express apps with express-session over real HTTP on 127.0.0.1, a cookie jar, and the
// benchmark's counting proxy in front of DynamoDB Local, for the express-session store's tests.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { Express } from 'express'
import { inject } from 'vitest'
import { type ProxyStats, startCountingProxy } from '../../bench/proxy.ts'

export const EXPRESS_SECRET = 'express-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** Serves `app` on a free port of 127.0.0.1; `close()` stops it. */
export async function listen(app: Express): Promise<{ base: string; close: () => Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const started: Server = app.listen(0, '127.0.0.1', () => resolve(started))
  })
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** express-session's id inside its cookie value `s:<id>.<signature>` (URL-encoded). */
export function sidOf(cookie: string): string {
  const value = decodeURIComponent(cookie)
  return value.slice(2, value.lastIndexOf('.'))
}

/** A one-cookie jar for the `sid` cookie: sends it, keeps whatever a response sets. */
export function browser(base: string, name = 'sid') {
  let cookie: string | undefined
  return {
    get cookie() {
      return cookie
    },
    set cookie(value: string | undefined) {
      cookie = value
    },
    get sid() {
      return cookie === undefined ? undefined : sidOf(cookie)
    },
    async fetch(path: string, init: RequestInit = {}) {
      const headers = new Headers(init.headers)
      if (cookie !== undefined) headers.set('cookie', `${name}=${cookie}`)
      const response = await fetch(`${base}${path}`, { ...init, headers })
      const header = response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`))
      if (header) cookie = header.slice(name.length + 1, header.indexOf(';'))
      return { status: response.status, body: await response.text(), setCookie: header }
    },
  }
}

/** The counting proxy in front of this run's DynamoDB Local, and a client that goes through it. */
export async function countingClient() {
  const proxy = await startCountingProxy(inject('dynamodbEndpoint'))
  const client = new DynamoDBClient({
    endpoint: proxy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  })
  return {
    client,
    proxy,
    /** Calls since the last reset, by operation: `{ GetItem: 1, UpdateItem: 1 }`. */
    calls(): Record<string, number> {
      return callCounts(proxy.stats())
    },
    async close() {
      client.destroy()
      await proxy.close()
    },
  }
}

export function callCounts(stats: ProxyStats): Record<string, number> {
  return Object.fromEntries(Object.entries(stats).map(([operation, { count }]) => [operation, count]))
}
