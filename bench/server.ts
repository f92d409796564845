// The server under test, in its own process so that the load generator does not share its CPU
// time: `tsx bench/server.ts` with the system in the BENCH_SERVER environment variable (JSON,
// see ServerSpec). It prints `READY <port>` once it listens on 127.0.0.1.
import type { AddressInfo } from 'node:net'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { serve } from '@hono/node-server'
import { DynamoDBStore, MemoryStore } from '../src/index.ts'
// @ts-expect-error: plain JavaScript, see the file for why
import { expressApp } from './apps/express.mjs'
import { bareApp, sessionApp } from './apps/hono.ts'

export interface ServerSpec {
  kind:
    | 'bare-hono'
    | 'bare-hono-noop'
    | 'hono-dynamodb'
    | 'hono-memory'
    | 'express-connect-dynamodb'
    | 'express-dynamodb-session'
    | 'bare-express'
  /** The counting proxy in front of DynamoDB Local. */
  endpoint?: string
  table?: string
  /** Extra DynamoDBStore options, e.g. { consistentRead: false } or { compress: true }. */
  storeOptions?: Record<string, unknown>
  /** Extra session middleware options, e.g. { touchAfter: 1 }. */
  sessionOptions?: Record<string, unknown>
  /** Adds an `onEvent` that sums the capacity units each event reports, as a metrics exporter would. */
  events?: boolean
}

/** What the `events` systems' onEvent adds up, so that its work is real. */
const reported = { events: 0, capacityUnits: 0 }
const countEvent = (event: { capacityUnits: number }) => {
  reported.events += 1
  reported.capacityUnits += event.capacityUnits
}

/** The same client settings for every system that talks to DynamoDB: only the store differs. */
function client(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  })
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new Error(`BENCH_SERVER needs "${name}"`)
  return value
}

const spec = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerSpec

if (
  spec.kind === 'express-connect-dynamodb' ||
  spec.kind === 'express-dynamodb-session' ||
  spec.kind === 'bare-express'
) {
  const app = expressApp(
    spec.kind === 'bare-express' ? undefined : client(required(spec.endpoint, 'endpoint')),
    spec.table,
    spec.kind === 'express-dynamodb-session' ? 'dynamodb-session' : 'connect-dynamodb',
  )
  const server = app.listen(0, '127.0.0.1', () => {
    console.log(`READY ${(server.address() as AddressInfo).port}`)
  })
  server.keepAliveTimeout = 60_000
} else {
  let app: { fetch: (request: Request) => Response | Promise<Response> }
  if (spec.kind === 'bare-hono') app = bareApp()
  else if (spec.kind === 'bare-hono-noop') app = bareApp({ noopMiddleware: true })
  else if (spec.kind === 'hono-memory') app = sessionApp(new MemoryStore(), spec.sessionOptions)
  else if (spec.kind === 'hono-dynamodb') {
    const store = new DynamoDBStore({
      tableName: required(spec.table, 'table'),
      client: client(required(spec.endpoint, 'endpoint')),
      ...spec.storeOptions,
    })
    app = sessionApp(store, { ...spec.sessionOptions, ...(spec.events ? { onEvent: countEvent } : {}) })
  } else throw new Error(`unknown server kind ${JSON.stringify(spec.kind)}`)
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
    console.log(`READY ${info.port}`)
  })
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = 60_000
}

// The app's own CPU time (user + system, microseconds), read by the benchmark before and after
// each measured window: with the load generator in another process, this is what requests cost.
process.on('message', (message: unknown) => {
  if (message === 'cpu') process.send?.({ type: 'cpu', micros: cpuMicros() })
})

function cpuMicros(): number {
  const { user, system } = process.cpuUsage()
  return user + system
}

// The parent going away ends this process too: nothing is left behind.
process.on('disconnect', () => process.exit(0))
