// dynamodb-session/opentelemetry with OpenTelemetry's own SDK: a Hono app served on 127.0.0.1, its
// sessions in DynamoDB Local, each event handed both to a list (what the core reported) and to
// openTelemetryEvents() (what OpenTelemetry recorded), so every span and metric point is checked
// against the event it came from.
import { AsyncLocalStorage } from 'node:async_hooks'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import {
  type Context,
  type ContextManager,
  context,
  type DiagLogger,
  DiagLogLevel,
  diag,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { Hono } from 'hono'
import { routePath } from 'hono/route'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { type SessionEnv, session } from '../../src/adapters/hono.ts'
import { type OpenTelemetryOptions, openTelemetryEvents } from '../../src/adapters/opentelemetry.ts'
import {
  ConfigError,
  createTable,
  DynamoDBStore,
  destroyUserSessions,
  type EventHandler,
  hashSessionId,
  MemoryStore,
  type SessionEvent,
  type SessionOptions,
  type Store,
} from '../../src/index.ts'
import { localClient, uniqueTableName } from '../support/dynamodb.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { deferred, SECRET, sessionCookie } from '../support/harness.ts'

type Data = { notes: string[]; visits: number }

/** A MetricReader the test collects from itself, whenever it wants the points so far. */
class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

type Point = { attributes: Record<string, unknown>; value: unknown }

/** A tracer and a meter of their own SDK providers, and what they recorded. */
function telemetry() {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  const reader = new CollectingReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const collect = async () => {
    const { resourceMetrics, errors } = await reader.collect()
    expect(errors).toEqual([])
    return resourceMetrics.scopeMetrics
  }
  return {
    tracerProvider,
    meterProvider,
    /** openTelemetryEvents' options for these providers. */
    options: { tracer: tracerProvider.getTracer('test'), meter: meterProvider.getMeter('test') },
    /** The ended spans, once their export (asynchronous in the SDK) is done. */
    async spans(): Promise<ReadableSpan[]> {
      await tracerProvider.forceFlush()
      return exporter.getFinishedSpans()
    },
    /** The points of the metric `name` so far, one per set of attributes. */
    async points(name: string): Promise<Point[]> {
      const metric = (await collect())
        .flatMap((scope) => scope.metrics)
        .find((m) => m.descriptor.name === name)
      return (metric?.dataPoints ?? []).map(({ attributes, value }) => ({ attributes, value }))
    },
    /** The instrumentation scopes that recorded metrics, with the names of their metrics. */
    async metricScopes() {
      return (await collect()).map(({ scope, metrics }) => ({
        scope,
        names: metrics.map((metric) => metric.descriptor.name),
      }))
    },
  }
}

/** Every event the core reported, in order, each also handed to `handlers`. */
function recorder(...handlers: EventHandler[]) {
  const events: SessionEvent[] = []
  const onEvent: EventHandler = (event) => {
    events.push(event)
    for (const handler of handlers) void handler(event)
  }
  return { events, onEvent }
}

/** Waits (briefly, boundedly) for `count` events: they are delivered in a microtask after the response. */
async function eventsArrived(events: SessionEvent[], count: number): Promise<void> {
  for (let tries = 0; events.length < count && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  expect(events.map((event) => event.type)).toHaveLength(count)
}

/** Each request's Hono route pattern, noted by the first middleware, for the `route` option. */
const routes = new WeakMap<Request, string>()
const honoRoute = (request: Request) => routes.get(request)

const servers: { close: () => void }[] = []
afterAll(() => {
  for (const server of servers) server.close()
})

/**
 * A notes app on 127.0.0.1: /visit starts a session, /login moves it to a new id bound to a user,
 * GET /notes/:id reads it, POST /notes/:id changes it (calling `afterRead` between the two), and
 * /logout destroys it.
 */
async function startApp(
  store: Store,
  onEvent: EventHandler,
  { afterRead, ...options }: Partial<SessionOptions> & { afterRead?: () => Promise<void> } = {},
) {
  const app = new Hono<SessionEnv<Data>>()
  app.use(async (c, next) => {
    routes.set(c.req.raw, routePath(c, -1))
    await next()
  })
  app.use(session({ secretKey: SECRET, store, cookie: { secure: false }, onEvent, ...options }))
  app.get('/visit', async (c) => {
    await c.get('session').set('visits', 1)
    return c.text('welcome')
  })
  app.post('/login', async (c) => {
    const current = c.get('session')
    await current.regenerate()
    await current.setUser(c.req.query('user') ?? 'user-7')
    return c.text('in')
  })
  app.get('/notes/:id', async (c) => c.json((await c.get('session').get('notes')) ?? []))
  app.post('/notes/:id', async (c) => {
    const notes = (await c.get('session').get('notes')) ?? []
    await afterRead?.()
    await c.get('session').set('notes', [...notes, c.req.param('id')])
    return c.text('noted')
  })
  app.post('/logout', async (c) => {
    await c.get('session').destroy()
    return c.text('out')
  })
  // A failed load rejects the handler's get(); the session's onError answers, quietly here.
  app.onError((_error, c) => c.text('failed', 500))
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  servers.push({ close: () => server.close() })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    /** A browser of its own: it sends the session cookie it was last given. */
    browser() {
      let cookie: string | undefined
      return {
        get id() {
          return cookie?.split('.')[0]
        },
        async fetch(path: string, init: RequestInit = {}) {
          const headers = new Headers(init.headers)
          if (cookie !== undefined) headers.set('cookie', `sid=${cookie}`)
          const response = await fetch(`${base}${path}`, { ...init, headers })
          const set = sessionCookie(response)
          if (set) cookie = set.value || undefined
          return { status: response.status, body: await response.text() }
        },
      }
    },
  }
}

/**
 * The context manager an SDK installs on Node (NodeSDK's is AsyncLocalStorage-based too), in its
 * few lines: what makes a span started later in the same request a child of the request's span.
 */
class AsyncLocalContextManager implements ContextManager {
  #storage = new AsyncLocalStorage<Context>()
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    active: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(active, () => fn.apply(thisArg, args))
  }
  bind<T>(_context: Context, target: T): T {
    return target
  }
  enable(): this {
    return this
  }
  disable(): this {
    this.#storage.disable()
    return this
  }
}

/** A span's start as epoch milliseconds, and its duration in milliseconds. */
const millis = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6

describe('openTelemetryEvents, on a Hono app over HTTP with DynamoDB Local', () => {
  const client = localClient()
  let store: DynamoDBStore
  let tableName = ''

  beforeAll(async () => {
    // createTable makes the user index that destroyUserSessions() queries.
    tableName = uniqueTableName('otel')
    await createTable({ client, tableName, maxWaitTime: 30 })
    store = new DynamoDBStore({ client, tableName })
  })

  it('records one span per event, named, timed and costed as the event reported', async () => {
    const otel = telemetry()
    const { events, onEvent } = recorder(openTelemetryEvents({ ...otel.options, route: honoRoute }))
    const user = (await startApp(store, onEvent)).browser()

    expect((await user.fetch('/visit')).status).toBe(200)
    const firstId = user.id
    await user.fetch('/login', { method: 'POST' })
    const secondId = user.id
    expect((await user.fetch('/notes/42')).body).toBe('[]')
    await user.fetch('/logout', { method: 'POST' })
    await eventsArrived(events, 5)

    const spans = await otel.spans()
    // The login reads its session (one event), then moves it (another).
    expect(events.map((event) => event.type)).toEqual(['created', 'read', 'regenerated', 'read', 'destroyed'])
    expect(spans.map((span) => span.name)).toEqual([
      'session created',
      'session read',
      'session regenerated',
      'session read',
      'session destroyed',
    ])
    for (const [index, event] of events.entries()) {
      const span = spans[index] as ReadableSpan
      expect(span.kind).toBe(SpanKind.INTERNAL)
      expect(span.status.code).toBe(SpanStatusCode.UNSET)
      expect(millis(span.startTime)).toBeCloseTo(event.startTime, 3)
      expect(millis(span.duration)).toBeCloseTo(event.durationMs, 3)
      expect(event.durationMs).toBeGreaterThan(0)
      expect(span.attributes).toMatchObject({
        'session.event': event.type,
        'session.store_key': event.key,
        'http.route': new URL(event.request?.url ?? '').pathname.replace('/42', '/:id'),
        'session.store.calls': event.calls.length,
        'session.store.operations': event.calls.map((call) => call.operation),
        'session.capacity_units': event.capacityUnits,
        'db.system.name': 'aws.dynamodb',
        'db.system': 'dynamodb',
        'aws.dynamodb.consumed_capacity': event.calls.map((call) =>
          JSON.stringify({ CapacityUnits: call.capacityUnits }),
        ),
      })
      expect(span.attributes).not.toHaveProperty('user.id')
      expect(span.attributes).not.toHaveProperty('error.type')
    }

    // The figures DynamoDB Local reported for each event, as each span carries them: a strongly
    // consistent read of a small item is 1 unit; a write of an item with a user id is 2 (the table
    // and its user index); the delete-if-live of the old id after regenerate() is a transaction.
    const [created, loginRead, regenerated, read, destroyed] = spans.map((span) => span.attributes)
    expect(created).toMatchObject({
      'session.store.operations': ['PutItem'],
      'db.operation.name': 'PutItem',
      'session.capacity_units': 1,
      'http.route': '/visit',
    })
    expect(loginRead).toMatchObject({ 'session.store.operations': ['GetItem'], 'http.route': '/login' })
    expect(regenerated).toMatchObject({
      'session.store.operations': ['PutItem', 'TransactWriteItems'],
      'aws.dynamodb.consumed_capacity': ['{"CapacityUnits":2}', '{"CapacityUnits":4}'],
      'session.capacity_units': 6,
      'session.previous_store_key': await hashSessionId(firstId ?? ''),
      'session.store_key': await hashSessionId(secondId ?? ''),
      'http.route': '/login',
    })
    expect(regenerated).not.toHaveProperty('db.operation.name') // two operations, not one
    expect(read).toMatchObject({
      'session.store.operations': ['GetItem'],
      'db.operation.name': 'GetItem',
      'session.capacity_units': 1,
      'aws.dynamodb.consumed_capacity': ['{"CapacityUnits":1}'],
      'http.route': '/notes/:id',
    })
    expect(destroyed).toMatchObject({
      'session.store.operations': ['DeleteItem'], // destroy() reads nothing first
      'db.operation.name': 'DeleteItem',
      'session.capacity_units': 2,
      'http.route': '/logout',
    })
    // The store key is the SHA-256 of the id: no span carries a session id.
    const everything = JSON.stringify(spans.map((span) => span.attributes))
    for (const id of [firstId, secondId]) expect(everything).not.toContain(id)
  })

  it('counts events, capacity, store calls and store time per event type and route', async () => {
    const otel = telemetry()
    const { events, onEvent } = recorder(openTelemetryEvents({ ...otel.options, route: honoRoute }))
    const app = await startApp(store, onEvent)
    const user = app.browser()
    await user.fetch('/visit')
    await user.fetch('/notes/42')
    await user.fetch('/notes/43')
    // A forged cookie: an event with no store call, so no capacity and no store time.
    await app.browser().fetch('/notes/44', { headers: { cookie: 'sid=forged.c2lnbmF0dXJl' } })
    await eventsArrived(events, 4)

    expect(events.map((event) => event.type)).toEqual(['created', 'read', 'read', 'tamperedCookie'])
    const reads = events.filter((event) => event.type === 'read')
    const readPoint = { 'session.event': 'read', 'http.route': '/notes/:id' }
    const createdPoint = { 'session.event': 'created', 'http.route': '/visit' }
    const tamperedPoint = { 'session.event': 'tamperedCookie', 'http.route': '/notes/:id' }
    // Two reads of two paths are one point: the route, not the path, is the attribute.
    expect(await otel.points('dynamodb_session.events')).toEqual([
      { attributes: createdPoint, value: 1 },
      { attributes: readPoint, value: 2 },
      { attributes: tamperedPoint, value: 1 },
    ])
    expect(await otel.points('dynamodb_session.consumed_capacity')).toEqual([
      { attributes: createdPoint, value: 1 },
      { attributes: readPoint, value: 2 }, // two strongly consistent reads of 1 unit
    ])
    expect(await otel.points('dynamodb_session.store.calls')).toEqual([
      { attributes: { ...createdPoint, 'db.operation.name': 'PutItem' }, value: 1 },
      { attributes: { ...readPoint, 'db.operation.name': 'GetItem' }, value: 2 },
    ])
    const durations = await otel.points('dynamodb_session.store.duration')
    expect(durations.map((point) => point.attributes)).toEqual([createdPoint, readPoint])
    const readTime = durations[1]?.value as { count: number; sum: number }
    expect(readTime.count).toBe(2)
    expect(readTime.sum).toBeCloseTo(
      reads.reduce((sum, event) => sum + event.durationMs, 0),
      6,
    )
  })

  it("takes the URL's pathname as http.route when no route function is given", async () => {
    const otel = telemetry()
    const { events, onEvent } = recorder(openTelemetryEvents(otel.options))
    const user = (await startApp(store, onEvent)).browser()
    await user.fetch('/visit')
    await user.fetch('/notes/42?draft=1')
    await eventsArrived(events, 2)
    const spans = await otel.spans()
    expect(spans.map((span) => span.attributes['http.route'])).toEqual(['/visit', '/notes/42'])
    expect((await otel.points('dynamodb_session.events')).map((point) => point.attributes)).toEqual([
      { 'session.event': 'created', 'http.route': '/visit' },
      { 'session.event': 'read', 'http.route': '/notes/42' },
    ])
  })

  it('puts the user id on spans only with recordUser, and never on metrics', async () => {
    const quiet = telemetry()
    const told = telemetry()
    const { events, onEvent } = recorder(
      openTelemetryEvents(quiet.options),
      openTelemetryEvents({ ...told.options, recordUser: true }),
    )
    const user = (await startApp(store, onEvent)).browser()
    await user.fetch('/visit')
    await user.fetch('/login?user=ada', { method: 'POST' })
    await user.fetch('/notes/1')
    await eventsArrived(events, 4)
    expect(events.map((event) => [event.type, event.userId])).toEqual([
      ['created', undefined],
      ['read', undefined],
      ['regenerated', 'ada'],
      ['read', 'ada'],
    ])

    expect((await quiet.spans()).map((span) => span.attributes['user.id'])).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ])
    expect((await told.spans()).map((span) => span.attributes['user.id'])).toEqual([
      undefined,
      undefined,
      'ada',
      'ada',
    ])
    for (const otel of [quiet, told]) {
      for (const name of ['events', 'consumed_capacity', 'store.calls', 'store.duration']) {
        const points = await otel.points(`dynamodb_session.${name}`)
        expect(points.length).toBeGreaterThan(0)
        expect(JSON.stringify(points)).not.toContain('ada')
      }
    }
  })

  it('records a store failure as a span with status ERROR and error.type the code', async () => {
    const proxy = await startFaultProxy(inject('dynamodbEndpoint'))
    try {
      const viaProxy = new DynamoDBStore({
        tableName,
        endpoint: proxy.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      })
      const otel = telemetry()
      const { events, onEvent } = recorder(openTelemetryEvents({ ...otel.options, route: honoRoute }))
      const failClosed = () => new Response('sessions are down', { status: 503 }) // and log nothing
      const user = (await startApp(viaProxy, onEvent, { onError: failClosed })).browser()
      await user.fetch('/visit')
      // Every attempt the SDK makes meets a 500.
      proxy.inject({ kind: 'server-error' }, { operation: 'GetItem', times: 10 })
      expect((await user.fetch('/notes/42')).status).toBe(503)
      await eventsArrived(events, 2)

      const failure = events[1] as SessionEvent
      expect(failure).toMatchObject({
        type: 'storeError',
        error: { code: 'STORE_UNAVAILABLE' },
        calls: [{ operation: 'GetItem', capacityUnits: undefined }], // one SDK call, its retries in it
        capacityUnits: 0,
      })
      const span = (await otel.spans())[1] as ReadableSpan
      expect(span.name).toBe('session storeError')
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: failure.error?.message })
      expect(span.attributes).toMatchObject({
        'error.type': 'STORE_UNAVAILABLE',
        'session.store_key': failure.key,
        'http.route': '/notes/:id',
        'session.store.operations': ['GetItem'],
        'db.operation.name': 'GetItem',
        'session.capacity_units': 0,
      })
      expect(span.attributes).not.toHaveProperty('aws.dynamodb.consumed_capacity') // no call reported any
      expect(millis(span.duration)).toBeCloseTo(failure.durationMs, 3)
      expect(await otel.points('dynamodb_session.events')).toContainEqual({
        attributes: { 'session.event': 'storeError', 'http.route': '/notes/:id' },
        value: 1,
      })
    } finally {
      await proxy.close()
    }
  })

  it('reports a write refused because the session ended meanwhile as SESSION_ENDED, its refused call with no capacity', async () => {
    const otel = telemetry()
    const { events, onEvent } = recorder(openTelemetryEvents({ ...otel.options, route: honoRoute }))
    const loaded = deferred()
    const resume = deferred()
    const app = await startApp(store, onEvent, {
      afterRead: async () => {
        loaded.resolve()
        await resume.promise
      },
      onError: () => undefined, // SESSION_ENDED: serve the handler's response, and log nothing
    })
    const user = app.browser()
    await user.fetch('/visit')
    const late = user.fetch('/notes/9', { method: 'POST' })
    await loaded.promise
    await user.fetch('/logout', { method: 'POST' })
    resume.resolve()
    expect((await late).status).toBe(200)
    await eventsArrived(events, 4)

    expect(events.map((event) => event.type)).toEqual(['created', 'read', 'destroyed', 'storeError'])
    const refused = events[3] as SessionEvent
    expect(refused.error?.code).toBe('SESSION_ENDED')
    expect(refused.calls).toEqual([{ operation: 'UpdateItem', capacityUnits: undefined }])
    const span = (await otel.spans())[3] as ReadableSpan
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.attributes).toMatchObject({
      'error.type': 'SESSION_ENDED',
      'http.route': '/notes/:id',
      'session.store.calls': refused.calls.length,
      'session.store.operations': refused.calls.map((call) => call.operation),
      'session.capacity_units': 0,
    })
    // The refused write's error carries no capacity figure, so the span claims none.
    expect(span.attributes).not.toHaveProperty('aws.dynamodb.consumed_capacity')
  })

  it("records destroyUserSessions' loggedOutEverywhere with the number ended and no route", async () => {
    const otel = telemetry()
    const { events, onEvent } = recorder(openTelemetryEvents({ ...otel.options, route: honoRoute }))
    const app = await startApp(store, () => {})
    for (const device of [app.browser(), app.browser()]) {
      await device.fetch('/visit')
      await device.fetch('/login?user=grace', { method: 'POST' })
    }
    expect(await destroyUserSessions(store, 'grace', { onEvent, settleMs: 0 })).toBe(2)
    await eventsArrived(events, 1)

    const [event] = events as [SessionEvent]
    expect(event).toMatchObject({ type: 'loggedOutEverywhere', ended: 2, request: undefined, key: undefined })
    // Two looks at the user index (Query, then BatchGetItem of the times while any is found) and
    // one DeleteItem per session, each with the capacity DynamoDB reported.
    expect(event.calls.map((call) => call.operation)).toEqual([
      'Query',
      'BatchGetItem',
      'DeleteItem',
      'DeleteItem',
      'Query',
    ])
    // As DynamoDB Local counts them: 0.5 for the first Query of the (eventually consistent) index,
    // 2 for the two strongly consistent reads of the batch, 2 per delete (the table and the user
    // index), and 0 for the second, empty Query.
    expect(event.calls.map((call) => call.capacityUnits)).toEqual([0.5, 2, 2, 2, 0])
    expect(event.capacityUnits).toBe(6.5)
    const [span] = (await otel.spans()) as [ReadableSpan]
    expect(span.name).toBe('session loggedOutEverywhere')
    expect(span.attributes).toMatchObject({
      'session.event': 'loggedOutEverywhere',
      'session.ended_count': 2,
      'session.store.operations': event.calls.map((call) => call.operation),
      'session.capacity_units': event.capacityUnits,
      'aws.dynamodb.consumed_capacity': event.calls.map((call) =>
        JSON.stringify({ CapacityUnits: call.capacityUnits }),
      ),
      'db.system.name': 'aws.dynamodb',
    })
    expect(span.attributes).not.toHaveProperty('http.route')
    expect(span.attributes).not.toHaveProperty('session.store_key')
    expect(span.attributes).not.toHaveProperty('user.id')
    expect(await otel.points('dynamodb_session.events')).toEqual([
      { attributes: { 'session.event': 'loggedOutEverywhere' }, value: 1 },
    ])
  })
})

describe('openTelemetryEvents, with other stores and settings', () => {
  afterEach(() => {
    trace.disable()
    metrics.disable()
    diag.disable()
    context.disable()
  })

  it("starts each span under the context active where the event happened: the request's span", async () => {
    context.setGlobalContextManager(new AsyncLocalContextManager().enable())
    const otel = telemetry()
    const { tracer } = otel.options
    const { events, onEvent } = recorder(openTelemetryEvents({ ...otel.options, route: honoRoute }))
    const app = new Hono<SessionEnv<Data>>()
    // What HTTP instrumentation does: one active span around each request.
    app.use((c, next) =>
      tracer.startActiveSpan(`${c.req.method} ${routePath(c, -1)}`, async (span) => {
        await next()
        span.end()
      }),
    )
    app.use(async (c, next) => {
      routes.set(c.req.raw, routePath(c, -1))
      await next()
    })
    app.use(session({ secretKey: SECRET, store: new MemoryStore(), cookie: { secure: false }, onEvent }))
    app.get('/visit', async (c) => {
      await c.get('session').set('visits', 1)
      return c.text('welcome')
    })
    const response = await app.request('http://127.0.0.1/visit')
    expect(response.status).toBe(200)
    await eventsArrived(events, 1)

    const [sessionSpan, requestSpan] = (await otel.spans()) as [ReadableSpan, ReadableSpan]
    expect([sessionSpan.name, requestSpan.name]).toEqual(['session created', 'GET /visit'])
    expect(sessionSpan.parentSpanContext?.spanId).toBe(requestSpan.spanContext().spanId)
    expect(sessionSpan.spanContext().traceId).toBe(requestSpan.spanContext().traceId)
  })

  it("names a MemoryStore's calls by store method, with no capacity and no db.system.name", async () => {
    const otel = telemetry()
    const { events, onEvent } = recorder(openTelemetryEvents({ ...otel.options, route: honoRoute }))
    const user = (await startApp(new MemoryStore(), onEvent)).browser()
    await user.fetch('/visit')
    await user.fetch('/notes/3')
    await eventsArrived(events, 2)
    const spans = await otel.spans()
    expect(spans.map((span) => [span.name, span.attributes['session.store.operations']])).toEqual([
      ['session created', ['create']],
      ['session read', ['load']],
    ])
    for (const span of spans) {
      expect(span.attributes).toMatchObject({ 'session.store.calls': 1, 'session.capacity_units': 0 })
      expect(span.attributes).not.toHaveProperty('db.system.name')
      expect(span.attributes).not.toHaveProperty('db.system')
      expect(span.attributes).not.toHaveProperty('aws.dynamodb.consumed_capacity')
    }
    expect(await otel.points('dynamodb_session.store.calls')).toEqual([
      {
        attributes: { 'session.event': 'created', 'http.route': '/visit', 'db.operation.name': 'create' },
        value: 1,
      },
      {
        attributes: { 'session.event': 'read', 'http.route': '/notes/:id', 'db.operation.name': 'load' },
        value: 1,
      },
    ])
  })

  it("uses the global tracer and meter by default, as dynamodb-session at the package's version", async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
    const otel = telemetry()
    trace.setGlobalTracerProvider(otel.tracerProvider)
    metrics.setGlobalMeterProvider(otel.meterProvider)
    const { events, onEvent } = recorder(openTelemetryEvents())
    await (await startApp(new MemoryStore(), onEvent)).browser().fetch('/visit')
    await eventsArrived(events, 1)

    const scope = { name: 'dynamodb-session', version, schemaUrl: undefined }
    expect((await otel.spans()).map((span) => [span.name, span.instrumentationScope])).toEqual([
      ['session created', scope],
    ])
    expect(await otel.metricScopes()).toEqual([
      {
        scope,
        names: [
          'dynamodb_session.events',
          'dynamodb_session.consumed_capacity',
          'dynamodb_session.store.calls',
          'dynamodb_session.store.duration',
        ],
      },
    ])
  })

  it('never throws: a failing route function is told to the diag logger, and the request is served', async () => {
    const logged: unknown[][] = []
    const logger: DiagLogger = {
      error: (...args) => void logged.push(args),
      warn: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    }
    diag.setLogger(logger, DiagLogLevel.ERROR)
    const otel = telemetry()
    const failing = openTelemetryEvents({
      ...otel.options,
      route: () => {
        throw new Error('no route table')
      },
    })
    const thrown: unknown[] = []
    const { events, onEvent } = recorder((event) => {
      try {
        failing(event)
      } catch (error) {
        thrown.push(error)
      }
    })
    expect((await (await startApp(new MemoryStore(), onEvent)).browser().fetch('/visit')).status).toBe(200)
    await eventsArrived(events, 1)
    expect(thrown).toEqual([])
    expect(logged).toEqual([
      ['dynamodb-session: a "created" session event was not recorded', new Error('no route table')],
    ])
    expect(await otel.spans()).toEqual([])
  })

  it('refuses a bad option at once with a ConfigError naming it', () => {
    const cases: [unknown, RegExp][] = [
      [{ recordUsr: true }, /Unknown openTelemetryEvents option "recordUsr": did you mean "recordUser"\?/],
      [{ traser: {} }, /did you mean "tracer"\?/],
      [{ tracer: {} }, /option "tracer" must be a Tracer \(from trace.getTracer\(\)\), not an object/],
      [{ meter: trace.getTracer('x') }, /option "meter" must be a Meter \(from metrics.getMeter\(\)\)/],
      [{ route: '/notes/:id' }, /option "route" must be a function, not "\/notes\/:id"/],
      [{ recordUser: 'yes' }, /option "recordUser" must be true or false, not "yes"/],
      [null, /openTelemetryEvents needs an object of options, not null/],
    ]
    for (const [options, message] of cases) {
      const attempt = () => openTelemetryEvents(options as OpenTelemetryOptions)
      expect(attempt).toThrow(ConfigError)
      expect(attempt).toThrow(message)
    }
    expect(() =>
      openTelemetryEvents({ tracer: trace.getTracer('x'), meter: metrics.getMeter('x') }),
    ).not.toThrow()
  })
})
