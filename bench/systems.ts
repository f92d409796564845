// The systems under test. Each runs in its own server process for the whole benchmark, so for
// every workload the systems run back to back, close in time, and their ratios to the bare app
// suffer the least from whatever else the machine is doing.
import type { ServerSpec } from './server.ts'

export interface System {
  id: string
  label: string
  spec: Omit<ServerSpec, 'endpoint' | 'table'>
  /** The workloads it runs; all of them when absent. */
  workloads?: readonly string[]
  /** The route that creates its small sessions. @default '/seed' */
  seedPath?: string
  /** The bare app is the floor; it is run first in every workload. */
  baseline?: boolean
  /** Talks to DynamoDB, so its calls and capacity are counted. */
  dynamodb: boolean
}

/** What the benchmark passes to DynamoDBStore to turn compression on, once the store has it. */
export const COMPRESS_OPTIONS: Record<string, unknown> = { compress: true }

export function systems({ compression }: { compression: boolean }): System[] {
  const list: System[] = [
    {
      id: 'bare',
      label: 'bare Hono (no sessions)',
      spec: { kind: 'bare-hono' },
      baseline: true,
      dynamodb: false,
    },
    {
      // What any Hono middleware costs at least: the floor the middleware's own cost shows against.
      id: 'bare-noop',
      label: 'bare Hono + one no-op middleware',
      spec: { kind: 'bare-hono-noop' },
      workloads: ['W1', 'W5', 'W2'],
      dynamodb: false,
    },
    { id: 'lib', label: 'dynamodb-session (Hono)', spec: { kind: 'hono-dynamodb' }, dynamodb: true },
    {
      id: 'lib-eventual',
      label: 'dynamodb-session, consistentRead: false',
      spec: { kind: 'hono-dynamodb', storeOptions: { consistentRead: false } },
      workloads: ['W2', 'W6r'],
      dynamodb: true,
    },
    {
      // touchAfter: 1 s makes touches happen within a few seconds' run, to measure their bound.
      id: 'lib-touch1s',
      label: 'dynamodb-session, touchAfter: 1',
      spec: { kind: 'hono-dynamodb', sessionOptions: { touchAfter: 1 } },
      workloads: ['W2'],
      dynamodb: true,
    },
    {
      // encrypt: true beside the row above, same sessions: what sealing at rest costs in app CPU.
      id: 'lib-encrypt',
      label: 'dynamodb-session, encrypt: true',
      spec: { kind: 'hono-dynamodb', sessionOptions: { encrypt: true } },
      workloads: ['W2', 'W3'],
      dynamodb: true,
    },
    {
      // onEvent beside the plain row: what metering every request (ConsumedCapacity asked of
      // DynamoDB, one event per request, delivered in a microtask) costs in app CPU.
      id: 'lib-events',
      label: 'dynamodb-session, onEvent summing capacity',
      spec: { kind: 'hono-dynamodb', events: true },
      workloads: ['W2', 'W3'],
      dynamodb: true,
    },
    {
      // A logged-in session bound to its user: the table's user index (made by createTable)
      // holds it too, and DynamoDB bills a write to the index beside the write to the table.
      id: 'lib-user',
      label: 'dynamodb-session, session bound to a user (setUser)',
      spec: { kind: 'hono-dynamodb' },
      seedPath: '/seed-user',
      workloads: ['W3'],
      dynamodb: true,
    },
  ]
  if (compression) {
    list.push({
      id: 'lib-compress',
      label: `dynamodb-session, ${JSON.stringify(COMPRESS_OPTIONS)}`,
      spec: { kind: 'hono-dynamodb', storeOptions: COMPRESS_OPTIONS },
      workloads: ['W6r', 'W6w'],
      dynamodb: true,
    })
  }
  list.push(
    {
      // The middleware's own cost, with no I/O, on issue 12's ~1.2 KB session.
      id: 'lib-memory',
      label: 'dynamodb-session, MemoryStore',
      spec: { kind: 'hono-memory' },
      seedPath: '/seed-profile',
      dynamodb: false,
    },
    {
      id: 'lib-memory-encrypt',
      label: 'dynamodb-session, MemoryStore, encrypt: true',
      spec: { kind: 'hono-memory', sessionOptions: { encrypt: true } },
      seedPath: '/seed-profile',
      workloads: ['W2', 'W3'],
      dynamodb: false,
    },
    {
      id: 'connect',
      label: 'express-session + connect-dynamodb',
      spec: { kind: 'express-connect-dynamodb' },
      dynamodb: true,
    },
    {
      // The same Express app, with this library's express-session store (docs/express.md).
      id: 'express-lib',
      label: 'express-session + dynamodb-session/express-session',
      spec: { kind: 'express-dynamodb-session' },
      dynamodb: true,
    },
    {
      // For reference: how much of connect-dynamodb's numbers is Express itself.
      id: 'bare-express',
      label: 'bare Express (no sessions)',
      spec: { kind: 'bare-express' },
      workloads: ['W1'],
      dynamodb: false,
    },
  )
  return list
}
