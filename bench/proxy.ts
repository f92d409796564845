// A loopback proxy in front of DynamoDB Local that counts what each system asks of DynamoDB:
// operations by type, request and response bytes, and the capacity units DynamoDB bills for
// them. Neither store asks for ConsumedCapacity, so the proxy adds "ReturnConsumedCapacity":
// "TOTAL" to each request and strips the answer back out of the response: the client sees
// (and the byte counts measure) what it would have got without the proxy. DynamoDB Local does
// not verify request signatures, so the changed body needs no re-signing.
//
// Run as its own process (`tsx bench/proxy.ts <target>`), so that the load generator's busy
// event loop does not delay DynamoDB calls. It prints `READY <port>` and answers IPC messages:
// 'reset' clears the counters, 'stats' sends them back.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'

export interface OperationStats {
  count: number
  /** Request bodies as the client sent them. */
  bytesIn: number
  /** Response bodies as the client received them. */
  bytesOut: number
  /** Capacity units DynamoDB Local reported for the operation (read units or write units). */
  capacityUnits: number
  /** Responses that were errors, by their __type, e.g. ConditionalCheckFailedException. */
  errors: Record<string, number>
  /** GetItem only: how many asked for strongly consistent reads. */
  consistentReads: number
  /** How many distinct items (keys) the operation addressed. */
  keys: number
  /** The most calls any one item got: for touches, at most one per touchAfter per session. */
  maxPerKey: number
}

export type ProxyStats = Record<string, OperationStats>

/** The counters of an operation not seen yet. */
export function emptyStats(): OperationStats {
  return {
    count: 0,
    bytesIn: 0,
    bytesOut: 0,
    capacityUnits: 0,
    errors: {},
    consistentReads: 0,
    keys: 0,
    maxPerKey: 0,
  }
}

/** Operations whose capacity is billed in write units; every other one in read units. */
export const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])

export async function startCountingProxy(target: string) {
  let stats: ProxyStats = {}
  // Calls per item, by operation: a few thousand keys at most per measured run.
  let perKey = new Map<string, Map<string, number>>()
  // Enough connections for the servers' SDK clients (50 sockets each by default) to never queue here.
  const upstream = new Pool(target, { connections: 64, pipelining: 1 })

  const server = createServer(async (request, response) => {
    try {
      const chunks: Buffer[] = []
      for await (const chunk of request) chunks.push(chunk as Buffer)
      const body = Buffer.concat(chunks)
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown'
      const parsed = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {}
      const asked = parsed.ReturnConsumedCapacity !== undefined && parsed.ReturnConsumedCapacity !== 'NONE'
      if (!asked) parsed.ReturnConsumedCapacity = 'TOTAL'

      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value !== 'string') continue
        if (name === 'host' || name === 'connection' || name === 'content-length') continue
        headers[name] = value
      }
      const answer = await upstream.request({
        path: '/',
        method: 'POST',
        headers,
        body: JSON.stringify(parsed),
      })
      const text = await answer.body.text()
      let out = text
      const entry = stats[operation] ?? emptyStats()
      stats[operation] = entry
      if (parsed.Key !== undefined) {
        const keys = perKey.get(operation) ?? new Map<string, number>()
        perKey.set(operation, keys)
        const key = JSON.stringify(parsed.Key)
        const calls = (keys.get(key) ?? 0) + 1
        keys.set(key, calls)
        entry.keys = keys.size
        entry.maxPerKey = Math.max(entry.maxPerKey, calls)
      }
      entry.count += 1
      entry.bytesIn += body.length
      if (parsed.ConsistentRead === true) entry.consistentReads += 1
      try {
        const result = JSON.parse(text) as Record<string, unknown>
        if (typeof result.__type === 'string') {
          const type = result.__type.split('#').pop() ?? result.__type
          entry.errors[type] = (entry.errors[type] ?? 0) + 1
        }
        const consumed = result.ConsumedCapacity as { CapacityUnits?: number } | undefined
        entry.capacityUnits += consumed?.CapacityUnits ?? 0
        if (!asked && consumed) {
          delete result.ConsumedCapacity
          out = JSON.stringify(result)
        }
      } catch {
        // Not JSON: passed on as it is, and counted without capacity.
      }
      const bytes = Buffer.from(out, 'utf8')
      entry.bytesOut += bytes.length
      // x-amz-crc32 is left out on purpose: the body may have changed, and the SDK does not require it.
      response.writeHead(answer.statusCode, {
        'content-type': String(answer.headers['content-type'] ?? 'application/x-amz-json-1.0'),
        'content-length': String(bytes.length),
        'x-amzn-requestid': String(answer.headers['x-amzn-requestid'] ?? ''),
      })
      response.end(bytes)
    } catch (error) {
      response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' })
      response.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: `bench proxy: ${(error as Error).message}`,
        }),
      )
    }
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    reset() {
      stats = {}
      perKey = new Map()
    },
    stats: () => stats,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await upstream.close()
    },
  }
}

// As a child process: the target endpoint is the first argument.
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const target = process.argv[2]
  if (!target) throw new Error('usage: tsx bench/proxy.ts <DynamoDB endpoint>')
  const proxy = await startCountingProxy(target)
  process.on('message', (message: unknown) => {
    if (message === 'reset') {
      proxy.reset()
      process.send?.({ type: 'reset' })
    } else if (message === 'stats') {
      process.send?.({ type: 'stats', stats: proxy.stats() })
    } else if (message === 'stop') {
      proxy.close().finally(() => process.exit(0))
    }
  })
  // The parent going away ends this process too: nothing is left behind.
  process.on('disconnect', () => process.exit(0))
  console.log(`READY ${proxy.port}`)
}
