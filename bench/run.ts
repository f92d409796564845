// `npm run bench`: every system and workload of issue 6 in one run, against one DynamoDB Local
// behind the counting proxy, then the micro-benchmark. Writes bench/results/<date>T<time>.json and .md
// and bench/results/latest.md. Bounded: each run by its duration, the whole by a watchdog.
//
// Settings (environment): BENCH_ROUNDS (default 3), BENCH_SECONDS (measured seconds per system
// per round, default 3), BENCH_WARMUP (seconds before each, default 0.5), BENCH_JVM_WARMUP (seconds of mixed traffic per DynamoDB system
// before the first run, default 3: DynamoDB Local's JIT doubles its speed in the first seconds),
// BENCH_CONNECTIONS (default 16), BENCH_ONLY (comma-separated workload ids, e.g. W2,W4),
// BENCH_SYSTEMS (comma-separated system ids, e.g. bare-noop,lib-memory; the bare app always runs),
// BENCH_SKIP_MICRO=1.
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb'
// @ts-expect-error: a plain-JavaScript script shared with `npm run dynamodb-local`, without types
import { startDynamoDBLocal } from '../scripts/dynamodb-local.mjs'
import { createTable } from '../src/index.ts'
import { type CompressionProbe, probeCompression } from './compression.ts'
import { costOf } from './cost.ts'
import { fetchCookie, runLoad } from './load.ts'
import { runMicro } from './micro/run-micro.ts'
import { ask, type Child, killAllStarted, startChild } from './processes.ts'
import type { ProxyStats } from './proxy.ts'
import { machine, type SeedResult, type Settings, writeResults } from './report.ts'
import { type Round, type RunResult, summarize } from './rounds.ts'
import { type System, systems } from './systems.ts'
import { WORKLOADS } from './workloads.ts'

const settings: Settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  seconds: Number(process.env.BENCH_SECONDS ?? 3),
  warmup: Number(process.env.BENCH_WARMUP ?? 0.5),
  jvmWarmup: Number(process.env.BENCH_JVM_WARMUP ?? 3),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 16),
  smallSessions: 256,
  largeSessions: 64,
}
const only = process.env.BENCH_ONLY?.split(',').map((id) => id.trim())
const onlySystems = process.env.BENCH_SYSTEMS?.split(',').map((id) => id.trim())
const LIBRARY_TABLE = 'bench_sessions'
const CONNECT_TABLE = 'bench_connect_sessions'
/** The whole benchmark may take this long; then it stops, whatever it is doing. */
const WATCHDOG_MS = 20 * 60_000

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60_000} minutes; stopping`)
  killAllStarted()
  process.exit(2)
}, WATCHDOG_MS)
watchdog.unref()

const startedAt = new Date()
const loadBefore = machine().loadAverage
const log = (line: string) =>
  console.log(`[bench ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)}s] ${line}`)

const compression: CompressionProbe = await probeCompression()
log(
  compression.supported
    ? `DynamoDBStore compresses: the 50 KB session's item is ${compression.compressedBytes} bytes instead of ${compression.plainBytes}`
    : 'DynamoDBStore has no compression option yet: no compression rows',
)

const ddb = (await startDynamoDBLocal()) as { endpoint: string; stop: () => Promise<void> }
const children: Child[] = []
try {
  await createTables(ddb.endpoint)
  const proxy = await startChild('bench/proxy.ts', { args: [ddb.endpoint] })
  children.push(proxy)
  const endpoint = `http://127.0.0.1:${proxy.port}`
  const resetProxy = () => ask(proxy.process, 'reset', 'reset')
  const proxyStats = async () => (await ask<{ stats: ProxyStats }>(proxy.process, 'stats', 'stats')).stats
  log(`DynamoDB Local at ${ddb.endpoint}, counting proxy at ${endpoint}`)

  // Every server runs for the whole benchmark; only the one under load does any work.
  const list = systems({ compression: compression.supported }).filter(
    (system) => !onlySystems || system.baseline || onlySystems.includes(system.id),
  )
  const servers = new Map<string, Child>()
  await Promise.all(
    list.map(async (system) => {
      const table = system.spec.kind === 'express-connect-dynamodb' ? CONNECT_TABLE : LIBRARY_TABLE
      const server = await startChild('bench/server.ts', {
        env: { BENCH_SERVER: JSON.stringify({ ...system.spec, endpoint, table }) },
      })
      servers.set(system.id, server)
      children.push(server)
    }),
  )
  log(`${servers.size} servers ready`)

  // Sessions, created through each system's own routes, so each stores them its own way.
  const cookies = new Map<string, { small: string[]; large: string[] }>()
  const seeds: SeedResult[] = []
  for (const system of list) {
    const origin = `http://127.0.0.1:${servers.get(system.id)?.port}`
    if (!system.dynamodb && system.spec.kind !== 'hono-memory') {
      // The bare apps ignore cookies; they get one of the same length, so requests weigh the same.
      const fake = `sid=${'A'.repeat(43)}.${'B'.repeat(43)}`
      cookies.set(system.id, { small: [fake], large: [fake] })
      continue
    }
    const runs = WORKLOADS.filter((workload) => !system.workloads || system.workloads.includes(workload.id))
    await resetProxy()
    const small = await seed(origin, system.seedPath ?? '/seed', settings.smallSessions)
    if (system.dynamodb) {
      const stats = await proxyStats()
      const cost = costOf(stats, small.length)
      seeds.push({
        system: system.id,
        label: system.label,
        callsPerSession: cost.callsPerRequest,
        writeUnitsPerSession: cost.writeUnitsPer1k / 1000,
        readUnitsPerSession: cost.readUnitsPer1k / 1000,
      })
    }
    const large = runs.some((workload) => workload.sessions === 'large')
      ? await seed(origin, '/seed-large', settings.largeSessions)
      : []
    cookies.set(system.id, { small, large })
  }
  log('sessions seeded')

  // DynamoDB Local runs on the JVM, which serves about half as many calls per second before its
  // JIT has compiled the hot paths: every DynamoDB system sends W4's mix first, not counted.
  const mixed = WORKLOADS.find((workload) => workload.id === 'W4')
  for (const system of list.filter((candidate) => candidate.dynamodb)) {
    if (!mixed || settings.jvmWarmup <= 0) break
    const pool = cookies.get(system.id)?.small ?? []
    await runLoad({
      origin: `http://127.0.0.1:${servers.get(system.id)?.port}`,
      connections: settings.connections,
      seconds: settings.jvmWarmup,
      next: (n) => mixed.next(n, pool),
    })
  }
  log('DynamoDB Local warmed up')

  // Rounds: every system of a workload runs once per round, back to back, and the round with the
  // median req/s stands for it. Whatever else the machine is doing then hits all systems alike.
  const runs: RunResult[] = []
  for (const workload of WORKLOADS) {
    if (only && !only.includes(workload.id)) continue
    const runners = list.filter((system) => !system.workloads || system.workloads.includes(workload.id))
    const rounds = new Map<string, Round[]>(runners.map((system) => [system.id, []]))
    for (let round = 0; round < settings.rounds; round++) {
      for (const system of runners) {
        const server = servers.get(system.id) as Child
        const sessionCookies = cookies.get(system.id)
        const pool = workload.sessions === 'none' ? [] : (sessionCookies?.[workload.sessions] ?? [])
        // Each round goes on down the session list where the previous one stopped.
        const offset = (rounds.get(system.id) ?? []).reduce((total, done) => total + done.sent, 0)
        const result = await measure(system, server, (n) => workload.next(n + offset, pool), {
          reset: resetProxy,
          stats: proxyStats,
        })
        result.sessions = workload.sessions === 'none' ? 0 : Math.min(pool.length, result.load.requests)
        rounds.get(system.id)?.push(result)
      }
    }
    let baseline: RunResult | undefined
    for (const system of runners) {
      const run = summarize(workload.id, system, rounds.get(system.id) ?? [], baseline)
      if (system.baseline) baseline = run
      runs.push(run)
      const calls = run.cost
        ? Object.entries(run.cost.callsPerRequest)
            .map(([operation, count]) => `${operation} ${count.toFixed(2)}`)
            .join(', ') || 'no calls'
        : ''
      log(
        `${workload.id} ${system.id}: ${run.load.rps.toFixed(0)} req/s ` +
          `(rounds: ${run.rounds.map((round) => round.load.rps.toFixed(0)).join(', ')}), ` +
          `p50 ${run.load.p50.toFixed(2)} ms, p99 ${run.load.p99.toFixed(2)} ms, ` +
          `app CPU ${run.cpuPerRequest.toFixed(1)} µs/request${calls ? `, ${calls}` : ''}` +
          (Object.keys(run.load.errors).length ? `, errors ${JSON.stringify(run.load.errors)}` : ''),
      )
    }
  }

  for (const child of children.splice(0)) await child.stop()
  await ddb.stop()

  const micro = process.env.BENCH_SKIP_MICRO ? undefined : await runMicro(log)
  const files = await writeResults({
    startedAt,
    finishedAt: new Date(),
    settings,
    loadBefore,
    runs,
    seeds,
    compression,
    micro,
    systems: list,
  })
  log(`results: ${files.join(', ')}`)
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  for (const child of children) await child.stop()
  await ddb.stop()
}

/**
 * The library's table as its own createTable() makes it (TTL, and the user index that only
 * sessions bound to a user are in), and connect-dynamodb's as its README describes it.
 */
async function createTables(target: string) {
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' }
  await createTable({
    tableName: LIBRARY_TABLE,
    endpoint: target,
    region: 'us-east-1',
    credentials,
    maxWaitTime: 60,
  })
  const client = new DynamoDBClient({ endpoint: target, region: 'us-east-1', credentials })
  await client.send(
    new CreateTableCommand({
      TableName: CONNECT_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  )
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: CONNECT_TABLE })
  client.destroy()
}

/** Creates `count` sessions through `path`, eight at a time, and returns their cookies. */
async function seed(origin: string, path: string, count: number): Promise<string[]> {
  const cookies: string[] = []
  for (let start = 0; start < count; start += 8) {
    const batch = Array.from({ length: Math.min(8, count - start) }, (_, offset) =>
      fetchCookie(origin, 'POST', `${path}?i=${start + offset}`),
    )
    for (const cookie of await Promise.all(batch)) {
      if (!cookie) throw new Error(`${origin}${path} set no cookie`)
      cookies.push(cookie)
    }
  }
  return cookies
}

/** The server process's CPU time so far (user + system), in microseconds. */
async function appCpu(server: Child): Promise<number> {
  return (await ask<{ micros: number }>(server.process, 'cpu', 'cpu')).micros
}

/** Warm-up (not counted), then the measured window, whose DynamoDB calls are all finished before they are read. */
async function measure(
  system: System,
  server: Child,
  next: Parameters<typeof runLoad>[0]['next'],
  proxy: { reset: () => Promise<unknown>; stats: () => Promise<ProxyStats> },
): Promise<Round> {
  const origin = `http://127.0.0.1:${server.port}`
  const base = { origin, connections: settings.connections, next }
  let sent = 0
  // The warm-up walks the session list too, and the measured window goes on where it stopped.
  if (settings.warmup > 0) sent += (await runLoad({ ...base, seconds: settings.warmup })).sent
  await proxy.reset()
  const loadAverage = machine().loadAverage[0] ?? 0
  const offset = sent
  const cpuBefore = await appCpu(server)
  const load = await runLoad({ ...base, seconds: settings.seconds, next: (n) => next(n + offset) })
  const cpuPerRequest = ((await appCpu(server)) - cpuBefore) / Math.max(1, load.requests)
  sent += load.sent
  const round: Round = { load, sent, sessions: 0, loadAverage, cpuPerRequest }
  if (system.dynamodb) round.stats = await proxy.stats()
  return round
}
