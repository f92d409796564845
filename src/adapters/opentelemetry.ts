// Session events as OpenTelemetry spans and metrics: an `onEvent` handler over @opentelemetry/api
// (an optional peer dependency, imported by this file only). The API alone records nothing: the
// app's SDK (NodeSDK, or a TracerProvider and a MeterProvider of its own) decides where it goes.

import {
  type Attributes,
  type Counter,
  diag,
  type Histogram,
  type Meter,
  metrics,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { EventHandler, SessionEvent } from '../core/events.ts'
import { aBoolean, aFunction, type Check, check, checkOptions } from '../option-checks.ts'

/** The instrumentation scope of the default tracer and meter. */
const SCOPE = 'dynamodb-session'
/** The package's version, for the scope (test/adapters/opentelemetry.test.ts keeps it equal to package.json's). */
const PACKAGE_VERSION = '0.1.0'

/**
 * DynamoDB's item operations, as DynamoDBStore names its calls: a call named otherwise is another
 * store's (or a store method, for a store that tells its meter nothing) and gets no `db.system.name`.
 */
const DYNAMODB_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
])

export interface OpenTelemetryOptions {
  /** Where the spans go. @default trace.getTracer('dynamodb-session', version): the global provider's */
  tracer?: Tracer
  /**
   * Where the metrics go. The metrics API, unlike the trace API, does not wait for a provider:
   * with the default, call openTelemetryEvents() after the SDK has started.
   * @default metrics.getMeter('dynamodb-session', version): the global provider's
   */
  meter?: Meter
  /**
   * The `http.route` of a request: a metric attribute, so it must take few values. Paths that
   * carry ids (`/notes/42`) need the framework's route pattern (`/notes/:id`) instead.
   * @default the URL's pathname
   * @example route: (request) => routes.get(request) // filled by a middleware with routePath(c, -1)
   */
  route?: (request: Request) => string | undefined
  /** Put the session's user id on spans as `user.id`. It is personal data; it never goes on metrics. @default false */
  recordUser?: boolean
}

const OPTIONS = {
  tracer: check('a Tracer (from trace.getTracer())', (value) => hasMethods(value, 'startSpan')),
  meter: check('a Meter (from metrics.getMeter())', (value) =>
    hasMethods(value, 'createCounter', 'createHistogram'),
  ),
  route: aFunction,
  recordUser: aBoolean,
} satisfies Record<keyof OpenTelemetryOptions, Check>

/** The instruments, made once: an SDK keeps one per name, so making them per event would only cost. */
interface Instruments {
  events: Counter
  capacity: Counter
  calls: Counter
  duration: Histogram
}

/**
 * An `onEvent` handler that records each session event as an OpenTelemetry span (`session read`,
 * `session created`, …) timed by its store calls, and counts events, capacity units, store calls
 * and store time as metrics by event type and route. It is synchronous and cheap, and never
 * throws: what goes wrong is told to OpenTelemetry's `diag` logger.
 *
 * @param options Checked once, here: a mistake throws a `ConfigError`.
 * @example
 * import { openTelemetryEvents } from 'dynamodb-session/opentelemetry'
 *
 * app.use(session({ secretKey, store, onEvent: openTelemetryEvents() }))
 */
export function openTelemetryEvents(options: OpenTelemetryOptions = {}): EventHandler {
  checkOptions('openTelemetryEvents', options, OPTIONS)
  const tracer = options.tracer ?? trace.getTracer(SCOPE, PACKAGE_VERSION)
  const instruments = createInstruments(options.meter ?? metrics.getMeter(SCOPE, PACKAGE_VERSION))
  const routeOf = options.route ?? pathnameOf
  const recordUser = options.recordUser ?? false

  return function recordSessionEvent(event: SessionEvent): void {
    try {
      const route = event.request ? routeOf(event.request) : undefined
      const attributes: Attributes = { 'session.event': event.type }
      if (route !== undefined) attributes['http.route'] = route
      countEvent(instruments, event, attributes)
      recordSpan(tracer, event, attributes, recordUser)
    } catch (error) {
      diag.error(`dynamodb-session: a "${event.type}" session event was not recorded`, error)
    }
  }
}

function createInstruments(meter: Meter): Instruments {
  return {
    events: meter.createCounter('dynamodb_session.events', {
      description: 'Session events, by event type and route.',
      unit: '{event}',
    }),
    capacity: meter.createCounter('dynamodb_session.consumed_capacity', {
      description: 'DynamoDB capacity units the store calls consumed, by event type and route.',
      unit: '{capacity_unit}',
    }),
    calls: meter.createCounter('dynamodb_session.store.calls', {
      description: 'Calls the store made to DynamoDB, by event type, route and operation.',
      unit: '{call}',
    }),
    duration: meter.createHistogram('dynamodb_session.store.duration', {
      description: "Time spent waiting for one event's store calls, by event type and route.",
      unit: 'ms',
    }),
  }
}

/** The metrics of one event; `attributes` are only its type and route, so they stay few. */
function countEvent(instruments: Instruments, event: SessionEvent, attributes: Attributes): void {
  instruments.events.add(1, attributes)
  // An event with no calls (a tampered cookie) costs nothing: no zero-length store time.
  if (event.calls.length === 0) return
  instruments.capacity.add(event.capacityUnits, attributes)
  instruments.duration.record(event.durationMs, attributes)
  for (const call of event.calls) {
    instruments.calls.add(1, { ...attributes, 'db.operation.name': call.operation })
  }
}

/** One span for one event: it starts with the first store call and lasts as long as the calls took. */
function recordSpan(tracer: Tracer, event: SessionEvent, common: Attributes, recordUser: boolean): void {
  const attributes: Attributes = { ...common, ...callAttributes(event) }
  if (event.key !== undefined) attributes['session.store_key'] = event.key
  if (event.previousKey !== undefined) attributes['session.previous_store_key'] = event.previousKey
  if (event.ended !== undefined) attributes['session.ended_count'] = event.ended
  if (recordUser && event.userId !== undefined) attributes['user.id'] = event.userId
  if (event.error) attributes['error.type'] = event.error.code
  const span = tracer.startSpan(`session ${event.type}`, {
    kind: SpanKind.INTERNAL,
    startTime: event.startTime,
    attributes,
  })
  if (event.error) span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message })
  span.end(event.startTime + event.durationMs)
}

/**
 * The store calls in DynamoDB's semantic conventions where they apply (`db.system.name`,
 * `db.operation.name`, `aws.dynamodb.consumed_capacity`), and in this library's own words.
 */
function callAttributes({ calls, capacityUnits }: SessionEvent): Attributes {
  if (calls.length === 0) return {}
  const operations = calls.map((call) => call.operation)
  const attributes: Attributes = {
    'session.store.calls': calls.length,
    'session.store.operations': operations,
    'session.capacity_units': capacityUnits,
  }
  if (operations.some((operation) => DYNAMODB_OPERATIONS.has(operation))) {
    attributes['db.system.name'] = 'aws.dynamodb'
    // The name before semantic conventions 1.26, which older backends still read.
    attributes['db.system'] = 'dynamodb'
  }
  if (operations.every((operation) => operation === operations[0])) {
    attributes['db.operation.name'] = operations[0]
  }
  // One JSON object per call that reported capacity, as the convention has it; a refused or
  // failed call reports none (DynamoDB's error carries no figure).
  const consumed = calls.flatMap(({ capacityUnits: units }) =>
    units === undefined ? [] : [JSON.stringify({ CapacityUnits: units })],
  )
  if (consumed.length > 0) attributes['aws.dynamodb.consumed_capacity'] = consumed
  return attributes
}

function pathnameOf(request: Request): string {
  return new URL(request.url).pathname
}

function hasMethods(value: unknown, ...names: string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  )
}
