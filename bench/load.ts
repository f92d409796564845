// A small closed-loop load generator: a fixed number of keep-alive connections, each sending its
// next request as soon as the previous answer is read, for a fixed time. Latencies are kept in
// microseconds (autocannon rounds to whole milliseconds, too coarse for a bare app's sub-millisecond
// answers). Every run is bounded: by its duration, by a request cap, and by an error cap.
import { Client } from 'undici'

export interface RequestSpec {
  method: 'GET' | 'POST'
  path: string
  cookie?: string | undefined
}

export interface LoadOptions {
  origin: string
  connections: number
  seconds: number
  /** The request the n-th send makes (n counts from 0 across all connections). */
  next: (n: number) => RequestSpec
  /** A run stops early after this many requests, whatever its duration. */
  maxRequests?: number
  /** A run stops early after this many failed requests (connection errors or 4xx/5xx). */
  maxErrors?: number
}

export interface LoadResult {
  /** Requests answered with 2xx or 3xx: the ones counted. */
  requests: number
  /** Requests sent, failed ones included: where the next run goes on down the session list. */
  sent: number
  seconds: number
  rps: number
  /** Milliseconds. */
  p50: number
  p99: number
  mean: number
  /** Status codes other than 2xx, and connection errors, by name. */
  errors: Record<string, number>
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const maxRequests = options.maxRequests ?? 500_000
  const maxErrors = options.maxErrors ?? 100
  const latencies = new Float64Array(maxRequests)
  const errors: Record<string, number> = {}
  let sent = 0
  let done = 0
  let failed = 0
  const clients = Array.from(
    { length: options.connections },
    () => new Client(options.origin, { pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 }),
  )
  const started = performance.now()
  const deadline = started + options.seconds * 1000
  const fail = (name: string) => {
    errors[name] = (errors[name] ?? 0) + 1
    failed += 1
  }

  const connection = async (client: Client) => {
    while (performance.now() < deadline && sent < maxRequests && failed < maxErrors) {
      const spec = options.next(sent++)
      const begin = performance.now()
      try {
        const response = await client.request({
          method: spec.method,
          path: spec.path,
          headers: spec.cookie ? { cookie: spec.cookie } : {},
        })
        await response.body.text()
        if (response.statusCode >= 400) fail(String(response.statusCode))
        else latencies[done++] = performance.now() - begin
      } catch (error) {
        fail((error as Error).name || 'Error')
      }
    }
  }
  await Promise.all(clients.map(connection))
  const elapsed = (performance.now() - started) / 1000
  await Promise.all(clients.map((client) => client.close()))

  const sorted = latencies.subarray(0, done).sort()
  const at = (q: number) =>
    done === 0 ? Number.NaN : (sorted[Math.min(done - 1, Math.floor(q * done))] ?? 0)
  let sum = 0
  for (const value of sorted) sum += value
  return {
    requests: done,
    sent,
    seconds: elapsed,
    rps: done / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    mean: done === 0 ? Number.NaN : sum / done,
    errors,
  }
}

/** One request, with its Set-Cookie value (name=value only), for seeding sessions. */
export async function fetchCookie(origin: string, method: string, path: string): Promise<string | undefined> {
  const response = await fetch(new URL(path, origin), { method, signal: AbortSignal.timeout(10_000) })
  await response.arrayBuffer()
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}`)
  const header = response.headers.getSetCookie()[0]
  return header?.split(';')[0]
}
