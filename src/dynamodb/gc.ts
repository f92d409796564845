import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb'
import { TableError } from '../errors.ts'
import { aFunction, type Check, check, wholeNumber } from '../option-checks.ts'
import { nowInSeconds } from '../store/store.ts'
import { withClient } from './client.ts'
import { isOwnItem, numberValue } from './item.ts'
import { type DynamoDBStoreOptions, resolveTableLayout, type TableLayout } from './options.ts'
import { backoff, type RateLimiter, rateLimiter } from './retry.ts'
import { isThrottling, toTableError } from './sdk-errors.ts'

/** The store's options (so one object configures store, table and gc), plus what to delete and how fast. */
export interface GarbageCollectionOptions extends DynamoDBStoreOptions {
  /** Also delete sessions created more than this many seconds ago, however active. @default none */
  maxAge?: number
  /**
   * Also delete sessions idle (not written or touched) for more than this many seconds. Keep it
   * above the middleware's `touchAfter` (at most an hour by default): a session that is only
   * read moves its `updated_at` just once per `touchAfter`. A session a request uses after the
   * scan is kept (counted in `skipped`), as each idle one is deleted only if still idle.
   * @default none
   */
  maxStale?: number
  /**
   * Parallel scan segments (`TotalSegments`), each scanned and cleaned by its own worker. More
   * segments finish sooner on a large table and draw on its capacity faster.
   * @default 1
   */
  segments?: number
  /**
   * At most this many items read per second, across all segments, and so at most that many
   * deleted: keeps gc from starving the application of capacity.
   * @default unlimited
   */
  rate?: number
  /**
   * How many times one request is sent, in all, while DynamoDB throttles it or leaves items
   * unprocessed; the pauses between grow exponentially, with jitter, up to 5 s each.
   * @default 10
   */
  maxAttempts?: number
  /** Called after every scanned page and every batch of deletes, with the counts so far. */
  onProgress?: (progress: GarbageCollectionProgress) => void
  /** Stops the collection: no new request is started, and the counts so far are returned. */
  signal?: AbortSignal
}

export interface GarbageCollectionProgress {
  /** Items the scan read, before filtering (DynamoDB's ScannedCount). */
  scanned: number
  /** Items DynamoDB confirmed deleted; requests sent but left unprocessed do not count. */
  deleted: number
  /**
   * Sessions picked as idle (`maxStale`) but no longer idle when gc came to delete them, so kept: a
   * request used them after the scan. (One deleted meanwhile, by a logout say, counts here too.)
   */
  skipped: number
  /** Requests sent again after throttling or with unprocessed items. */
  retried: number
  /** Segments scanned to their end, out of `segments`. */
  segmentsDone: number
  segments: number
  /** Milliseconds since the collection started. */
  elapsedMs: number
}

export interface GarbageCollectionResult extends GarbageCollectionProgress {
  /** True when `signal` stopped the collection before every segment was scanned. */
  aborted: boolean
}

/** BatchWriteItem takes at most 25 requests; idle items go as that many DeleteItems at once. */
const BATCH_SIZE = 25
const DEFAULT_MAX_ATTEMPTS = 10
/** DynamoDB's limit for TotalSegments. */
const MAX_SEGMENTS = 1_000_000

/** collectGarbage's own options -> their checks, one line each; the store's are checked with them. */
const GC_OPTIONS = {
  maxAge: wholeNumber(1, undefined, 'seconds'),
  maxStale: wholeNumber(1, undefined, 'seconds'),
  segments: wholeNumber(1, MAX_SEGMENTS),
  rate: check(
    'a number of items per second above 0',
    (value) => typeof value === 'number' && value > 0 && Number.isFinite(value),
  ),
  maxAttempts: wholeNumber(1, 100),
  onProgress: aFunction,
  signal: check(
    'an AbortSignal',
    (value) => typeof (value as AbortSignal | null)?.throwIfAborted === 'function',
  ),
} satisfies Record<Exclude<keyof GarbageCollectionOptions, keyof DynamoDBStoreOptions>, Check>

/**
 * Deletes the session items that are past their expiry, and, when asked, those created more
 * than `maxAge` seconds ago or idle more than `maxStale` seconds. With neither it deletes only
 * expired items, never every session. Only this store's items are touched: with `keyPrefix` or
 * `sortKey` the scan keeps to items with that prefix and sort key value.
 *
 * The table is read by a parallel scan that fetches only keys and times. Expired and too old items
 * can never be live again, so they are deleted in batches of 25 (BatchWriteItem, which takes no
 * condition). An item that is only idle comes back to life when a request touches it after the
 * scan, so each is deleted by a DeleteItem on condition that it is still idle, up to 25 at once
 * per segment; one that is not is kept and counted in `skipped`. Throttling and unprocessed items
 * are retried with exponential backoff and jitter, bounded by `maxAttempts`. TTL does the same job
 * for free, only later (often hours): gc is for deleting sooner, or by stricter limits than the
 * sessions' own expiry. Needs dynamodb:Scan and dynamodb:BatchWriteItem on the table, and
 * dynamodb:DeleteItem with `maxStale`.
 *
 * @example
 * const { scanned, deleted } = await collectGarbage({ tableName: 'sessions', maxStale: 5 * 3600, segments: 4 })
 */
export async function collectGarbage(options: GarbageCollectionOptions): Promise<GarbageCollectionResult> {
  const layout = resolveTableLayout(options, 'collectGarbage', GC_OPTIONS)
  const { maxAge, maxStale, rate } = options
  const segments = options.segments ?? 1
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  const now = nowInSeconds()
  const limits: Limits = {
    now,
    oldest: maxAge === undefined ? undefined : now - maxAge,
    idlest: maxStale === undefined ? undefined : now - maxStale,
  }

  const started = Date.now()
  const counts: Counts = { scanned: 0, deleted: 0, skipped: 0, retried: 0, segmentsDone: 0 }
  const progress = (): GarbageCollectionProgress => ({ ...counts, segments, elapsedMs: Date.now() - started })
  const report = () => options.onProgress?.(progress())
  // One failed segment stops the others, so nothing goes on deleting after an error is thrown.
  const stop = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal
  const limiter = rate === undefined ? undefined : rateLimiter(rate, signal)

  await withClient(options, async (client) => {
    const context: Context = { client, layout, limits, signal, maxAttempts, counts, report }
    const scan = scanInput(
      layout,
      limits,
      rate === undefined ? undefined : Math.max(1, Math.floor(rate / segments)),
    )
    const outcomes = await Promise.allSettled(
      Array.from({ length: segments }, async (_, segment) => {
        try {
          await collectSegment(context, { ...scan, Segment: segment, TotalSegments: segments }, limiter)
        } catch (error) {
          stop.abort()
          throw error
        }
      }),
    )
    const failure = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failure) throw failure.reason
  })
  return { ...progress(), aborted: counts.segmentsDone < segments }
}

interface Limits {
  now: number
  /** Items created before this are too old (maxAge). */
  oldest: number | undefined
  /** Items last written before this are too idle (maxStale). */
  idlest: number | undefined
}

type Counts = Omit<GarbageCollectionProgress, 'segments' | 'elapsedMs'>

interface Context {
  client: DynamoDBClient
  layout: TableLayout
  limits: Limits
  signal: AbortSignal
  maxAttempts: number
  counts: Counts
  report: () => void
}

type Key = Record<string, AttributeValue>

async function collectSegment(
  context: Context,
  input: ScanCommandInput,
  limiter: RateLimiter | undefined,
): Promise<void> {
  const { client, layout, limits, signal, counts, report } = context
  const pageSize = input.Limit ?? 0 // set whenever there is a limiter
  let start: Record<string, AttributeValue> | undefined
  do {
    await limiter?.reserve(pageSize)
    if (signal.aborted) return
    const page = await sendWithRetries(context, 'Scan', () =>
      client.send(new ScanCommand({ ...input, ExclusiveStartKey: start })),
    )
    if (page === undefined) return
    counts.scanned += page.ScannedCount ?? 0
    limiter?.refund(pageSize - (page.ScannedCount ?? 0))
    report()
    const { garbage, idle } = sortGarbage(page.Items ?? [], layout, limits)
    for (const [keys, deleteSome] of [
      [garbage, deleteBatch],
      [idle, deleteIfStillIdle],
    ] as const) {
      for (let index = 0; index < keys.length; index += BATCH_SIZE) {
        if (signal.aborted) return
        await deleteSome(context, keys.slice(index, index + BATCH_SIZE))
        report()
      }
    }
    start = page.LastEvaluatedKey
  } while (start)
  counts.segmentsDone += 1
  report()
}

/**
 * The scan reads only keys and times (ProjectionExpression), and DynamoDB returns only the
 * garbage (FilterExpression); the filter also keeps to this store's items: those with the key
 * prefix and sort key value, and with a data map.
 */
function scanInput(layout: TableLayout, limits: Limits, pageSize: number | undefined): ScanCommandInput {
  const names: Record<string, string> = {
    '#key': layout.keyAttribute,
    '#data': layout.dataAttribute,
    '#created': layout.createdAttribute,
    '#updated': layout.updatedAttribute,
    '#expires': layout.expiresAttribute,
  }
  const values: Record<string, AttributeValue> = { ':map': { S: 'M' }, ':now': numberValue(limits.now) }
  const ours = ['attribute_type(#data, :map)']
  const projection = ['#key', '#created', '#updated', '#expires']
  if (layout.keyPrefix !== '') {
    ours.push('begins_with(#key, :prefix)')
    values[':prefix'] = { S: layout.keyPrefix }
  }
  if (layout.sortKey) {
    names['#sort'] = layout.sortKey.attribute
    values[':sort'] = { S: layout.sortKey.value }
    ours.push('#sort = :sort')
    projection.push('#sort')
  }
  const garbage = ['#expires <= :now']
  if (limits.oldest !== undefined) {
    garbage.push('#created < :oldest')
    values[':oldest'] = numberValue(limits.oldest)
  }
  if (limits.idlest !== undefined) {
    garbage.push('#updated < :idlest')
    values[':idlest'] = numberValue(limits.idlest)
  }
  const input: ScanCommandInput = {
    TableName: layout.tableName,
    ProjectionExpression: projection.join(', '),
    FilterExpression: `${ours.join(' AND ')} AND (${garbage.join(' OR ')})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  }
  if (pageSize !== undefined) input.Limit = pageSize
  return input
}

/**
 * The filter's decision again, on what the scan returned (a compatible server that ignored part
 * of the filter must not make gc delete a live session or an item of another kind), split in two:
 * `garbage`, the keys of items expired or too old, which no request can bring back (writes require
 * an unexpired item, and `created_at` never changes), and `idle`, those of items only too idle,
 * which a request may touch before they are deleted.
 */
function sortGarbage(
  items: Record<string, AttributeValue>[],
  layout: TableLayout,
  limits: Limits,
): { garbage: Key[]; idle: Key[] } {
  const garbage: Key[] = []
  const idle: Key[] = []
  for (const item of items) {
    if (!isOwnItem(item, layout)) continue
    const time = (attribute: string) => Number(item[attribute]?.N ?? Number.NaN)
    if (
      time(layout.expiresAttribute) <= limits.now ||
      (limits.oldest !== undefined && time(layout.createdAttribute) < limits.oldest)
    ) {
      garbage.push(keyOf(item, layout))
    } else if (limits.idlest !== undefined && time(layout.updatedAttribute) < limits.idlest) {
      idle.push(keyOf(item, layout))
    }
  }
  return { garbage, idle }
}

function keyOf(item: Record<string, AttributeValue>, layout: TableLayout): Key {
  const key: Key = {
    [layout.keyAttribute]: item[layout.keyAttribute] as AttributeValue,
  }
  if (layout.sortKey) key[layout.sortKey.attribute] = item[layout.sortKey.attribute] as AttributeValue
  return key
}

/**
 * Deletes up to 25 items, sending the unprocessed ones again until none is left. Throttling and
 * unprocessed items share one bounded count of attempts; only confirmed deletes are counted.
 */
async function deleteBatch(context: Context, keys: Key[]): Promise<void> {
  const { client, layout, signal, maxAttempts, counts } = context
  const tableName = layout.tableName
  let pending: WriteRequest[] = keys.map((Key) => ({ DeleteRequest: { Key } }))
  for (let attempt = 1; ; attempt++) {
    let unprocessed: WriteRequest[]
    try {
      const output = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }))
      unprocessed = output.UnprocessedItems?.[tableName] ?? []
      counts.deleted += pending.length - unprocessed.length
    } catch (error) {
      if (!isThrottling(error) || attempt >= maxAttempts)
        throw toTableError('BatchWriteItem', tableName, error)
      unprocessed = pending
    }
    if (unprocessed.length === 0) return
    if (attempt >= maxAttempts) {
      throw new TableError(
        'THROTTLED',
        `BatchWriteItem on table "${tableName}" left ${unprocessed.length} deletes unprocessed after ${maxAttempts} attempts: lower the rate or the number of segments, or raise the table's write capacity.`,
      )
    }
    counts.retried += 1
    pending = unprocessed
    if (!(await backoff(attempt, signal))) return
  }
}

/**
 * Deletes up to 25 items, all at once, each only if it is still idle: by the scan's cutoff, so a
 * session a request touched after the scan stays. The throttled ones are sent again together
 * after one pause, like a batch's unprocessed items, at most `maxAttempts` times in all.
 */
async function deleteIfStillIdle(context: Context, keys: Key[]): Promise<void> {
  const { client, layout, limits, signal, maxAttempts, counts } = context
  const deleteIfIdle = (Key: Key) =>
    client.send(
      new DeleteItemCommand({
        TableName: layout.tableName,
        Key,
        ConditionExpression: '#updated < :idlest',
        ExpressionAttributeNames: { '#updated': layout.updatedAttribute },
        // Only items picked as idle come here, so there is a cutoff; 0 would delete nothing.
        ExpressionAttributeValues: { ':idlest': numberValue(limits.idlest ?? 0) },
      }),
    )
  let pending = keys
  for (let attempt = 1; ; attempt++) {
    const outcomes = await Promise.allSettled(pending.map(deleteIfIdle))
    const throttled: Key[] = []
    let failure: unknown
    // Every outcome is counted before a failure is thrown, so the counts stay what DynamoDB did.
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') counts.deleted += 1
      else if (outcome.reason instanceof ConditionalCheckFailedException) counts.skipped += 1
      else if (isThrottling(outcome.reason) && attempt < maxAttempts) throttled.push(pending[index] as Key)
      else failure ??= outcome.reason
    }
    if (failure !== undefined) throw toTableError('DeleteItem', layout.tableName, failure)
    if (throttled.length === 0) return
    counts.retried += throttled.length
    pending = throttled
    if (!(await backoff(attempt, signal))) return
  }
}

/**
 * One request, sent again with backoff while DynamoDB throttles it, at most `maxAttempts` times;
 * undefined when the signal stopped the wait.
 */
async function sendWithRetries<T>(
  context: Context,
  operation: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      if (!isThrottling(error) || attempt >= context.maxAttempts) {
        throw toTableError(operation, context.layout.tableName, error)
      }
    }
    context.counts.retried += 1
    if (!(await backoff(attempt, context.signal))) return undefined
  }
}
