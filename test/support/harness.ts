import { afterEach, beforeEach, vi } from 'vitest'
import type { Next } from '../../src/core/middleware.ts'
import {
  DynamoDBStore,
  getSession,
  type SessionOptions,
  type Store,
  sessionMiddleware,
} from '../../src/index.ts'
import { countCalls, createSessionTable, localClient, uniqueTableName } from './dynamodb.ts'

export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
export const OLD_SECRET = 'old-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
export const ORIGIN = 'https://app.test'

/** A DynamoDBStore on a fresh DynamoDB Local table, with every call counted. */
export async function dynamoStore() {
  const client = localClient()
  const counter = countCalls(client)
  const tableName = await createSessionTable(client, uniqueTableName())
  counter.reset() // count the session's calls only
  return { client, counter, tableName, store: new DynamoDBStore({ client, tableName }) }
}

/**
 * The fetch middleware around one store, driven with `new Request()`: `send(handler, cookie)`
 * runs a handler and returns the response with the session cookie it set, if any.
 */
export function app(store: Store, options: Partial<SessionOptions> = {}) {
  const withSession = sessionMiddleware({ secretKey: SECRET, store, ...options })
  const cookieName = options.cookie?.name ?? 'sid'
  return {
    async send(handler: Next, cookie?: string, init: RequestInit = {}) {
      const headers = new Headers(init.headers)
      if (cookie !== undefined) headers.set('cookie', `${cookieName}=${cookie}`)
      const response = await withSession(new Request(`${ORIGIN}/`, { ...init, headers }), handler)
      return { response, cookie: sessionCookie(response, cookieName), body: await response.clone().text() }
    },
  }
}

/** The session Set-Cookie of a response: its value and its whole header. */
export function sessionCookie(response: Response, name = 'sid') {
  const header = response.headers.getSetCookie().find((line) => line.startsWith(`${name}=`))
  if (header === undefined) return undefined
  const value = header.slice(name.length + 1, header.indexOf(';'))
  return { value, header, id: value.split('.')[0] ?? '' }
}

/** A promise with its resolve, to hold one request at a point while another runs. */
export function deferred() {
  let resolve: () => void = () => {}
  const promise = new Promise<void>((done) => {
    resolve = done
  })
  return { promise, resolve }
}

/** A visit counter: reads `count`, adds one, stores it and answers it. */
export async function count(request: Request): Promise<Response> {
  const session = getSession<{ count: number }>(request)
  const next = ((await session.get('count')) ?? 0) + 1
  await session.set('count', next)
  return new Response(String(next))
}

/** Answers the session's `count` (0 when none) and changes nothing. */
export async function readCount(request: Request): Promise<Response> {
  return new Response(String((await getSession<{ count: number }>(request).get('count')) ?? 0))
}

/** A fixed clock for expiry tests (fake only Date, so timers and sockets run for real). */
export const T0 = Date.UTC(2030, 0, 1)
/** Moves the faked Date to `seconds` after T0. */
export const at = (seconds: number) => vi.setSystemTime(T0 + seconds * 1000)
/** In the enclosing describe, every test starts with Date (only) faked at T0, and ends real. */
export function useFixedClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    at(0)
  })
  afterEach(() => {
    vi.useRealTimers()
  })
}

/** T0 + `seconds` in epoch seconds, as the table stores times. */
export const epoch = (seconds: number) => T0 / 1000 + seconds
