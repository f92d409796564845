// The results of a run: bench/results/<date>T<time>.json (everything), <date>T<time>.md and latest.md (the
// tables docs/performance.md shows, copied there too). A second run on the same day replaces that day's files.
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg, release, totalmem, type } from 'node:os'
import { join } from 'node:path'
import type { CompressionProbe } from './compression.ts'
import { PRICES } from './cost.ts'
import type { Micro } from './micro/run-micro.ts'
import { updatePerformanceDoc } from './performance-doc.ts'
import { ROOT } from './processes.ts'
import type { RunResult } from './rounds.ts'
import type { System } from './systems.ts'
import { evaluateTargets, type Target } from './targets.ts'
import { WORKLOADS } from './workloads.ts'

export interface Settings {
  rounds: number
  seconds: number
  warmup: number
  jvmWarmup: number
  connections: number
  smallSessions: number
  largeSessions: number
}

export interface SeedResult {
  system: string
  label: string
  /** DynamoDB calls per new session, by operation, while the small sessions were created. */
  callsPerSession: Record<string, number>
  writeUnitsPerSession: number
  readUnitsPerSession: number
}

export function machine() {
  const cpu = cpus()
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
  }
}

function version(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string
      }
    ).version
  } catch {
    return 'not installed'
  }
}

interface Results {
  startedAt: Date
  finishedAt: Date
  settings: Settings
  loadBefore: number[]
  runs: RunResult[]
  seeds: SeedResult[]
  compression: CompressionProbe
  micro: Micro | undefined
  systems: System[]
}

export async function writeResults(results: Results): Promise<string[]> {
  const touchSystem = results.systems.find((system) => system.id === 'lib-touch1s')
  const touchAfter = Number(touchSystem?.spec.sessionOptions?.touchAfter ?? 1)
  const targets = evaluateTargets(results.runs, results.micro, results.compression, touchAfter)
  const json = {
    date: results.startedAt.toISOString(),
    durationSeconds: Math.round((results.finishedAt.getTime() - results.startedAt.getTime()) / 1000),
    machine: { ...machine(), loadAverageBefore: results.loadBefore },
    settings: results.settings,
    versions: Object.fromEntries(
      [
        'hono',
        '@hono/node-server',
        '@aws-sdk/client-dynamodb',
        'express',
        'express-session',
        'connect-dynamodb',
        'undici',
        'vitest',
      ].map((name) => [name, version(name)]),
    ),
    dynamodbLocal: 'DynamoDB Local 1.25.1 (amplify-dynamodb-simulator@2.9.30), in memory',
    capacitySource:
      'ConsumedCapacity reported by DynamoDB Local: the counting proxy adds ReturnConsumedCapacity: TOTAL to every request',
    prices: PRICES,
    compression: results.compression,
    systems: results.systems.map(({ id, label, spec }) => ({ id, label, spec })),
    workloads: WORKLOADS.map(({ id, title }) => ({ id, title })),
    targets,
    seeds: results.seeds,
    runs: results.runs,
    micro: results.micro,
  }
  const dir = join(ROOT, 'bench', 'results')
  await mkdir(dir, { recursive: true })
  // Date and UTC time, e.g. 2026-12-03T0832, so that two runs on one day both stay.
  const stamp = results.startedAt.toISOString().slice(0, 16).replace(':', '')
  const markdown = toMarkdown(json, targets, results)
  const files = [join(dir, `${stamp}.json`), join(dir, `${stamp}.md`), join(dir, 'latest.md')]
  await writeFile(files[0] as string, `${JSON.stringify(json, null, 2)}\n`)
  await writeFile(files[1] as string, markdown)
  await writeFile(files[2] as string, markdown)
  files.push(await updatePerformanceDoc(markdown))
  return files
}

const SHORT: Record<string, string> = {
  GetItem: 'Get',
  PutItem: 'Put',
  UpdateItem: 'Update',
  DeleteItem: 'Delete',
}

function calls(perRequest: Record<string, number> | undefined): string {
  if (!perRequest) return 'n/a'
  const entries = Object.entries(perRequest).filter(([, count]) => count > 0)
  if (entries.length === 0) return '0'
  return entries
    .map(([operation, count]) => `${count.toFixed(count < 0.1 ? 3 : 2)} ${SHORT[operation] ?? operation}`)
    .join(' + ')
}

/** The slowest and fastest rounds, so the reader sees how steady the machine was. */
function spread(run: RunResult): string {
  if (run.rounds.length < 2) return ''
  const rps = run.rounds.map((round) => round.load.rps)
  return ` (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)})`
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined || Number.isNaN(value) ? '' : value.toFixed(digits)
const times = (value: number | undefined) => (value === undefined ? '' : `${value.toFixed(2)}x`)

function toMarkdown(
  json: {
    machine: ReturnType<typeof machine> & { loadAverageBefore: number[] }
    versions: Record<string, string>
  } & Record<string, unknown>,
  targets: Target[],
  results: Results,
): string {
  const { settings, runs, compression } = results
  const m = json.machine
  const loads = runs.map((run) => run.loadAverage)
  const lines: string[] = []
  lines.push(`### Benchmark: ${results.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`)
  lines.push('')
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}. Load average (1 min) ` +
      `before: ${m.loadAverageBefore[0]}; during the runs: ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)} ` +
      '(the benchmark alone loads both cores; more means other work was running).',
  )
  lines.push(
    `Each system, each workload: ${settings.rounds} rounds of ${settings.seconds} s measured after ${settings.warmup} s of ` +
      `warm-up, the systems of a workload taking turns; req/s, p50 and p99 are the median round's, calls and capacity ` +
      `are all rounds'. App CPU is the server process's user + system time over the measured window per answered ` +
      `request (process.cpuUsage(); the load generator runs in another process), the rounds' median. ` +
      `${settings.connections} keep-alive connections; ${settings.smallSessions} small sessions (~250 B; ` +
      `~1.2 KB for the MemoryStore and no-op rows: a user object, a 1 KB profile and a counter) ` +
      `and ${settings.largeSessions} large ones (50 KB), cookies sent round-robin; DynamoDB Local warmed up with ` +
      `${settings.jvmWarmup} s of W4 per system first. Server, load generator, counting proxy and DynamoDB Local ` +
      'are separate processes on the same machine.',
  )
  lines.push(
    `DynamoDB Local 1.25.1 in memory. Capacity is what DynamoDB Local reports (the proxy adds ReturnConsumedCapacity: TOTAL). ` +
      `Cost at on-demand prices of $${PRICES.writeRequestUnitPerMillion} per million write units and ` +
      `$${PRICES.readRequestUnitPerMillion} per million read units (${PRICES.region}, assumed, not fetched).`,
  )
  lines.push(
    `Versions: hono ${json.versions.hono}, @hono/node-server ${json.versions['@hono/node-server']}, express ${json.versions.express}, ` +
      `express-session ${json.versions['express-session']}, connect-dynamodb ${json.versions['connect-dynamodb']}, ` +
      `@aws-sdk/client-dynamodb ${json.versions['@aws-sdk/client-dynamodb']}.`,
  )
  lines.push('')
  lines.push(
    '| workload | system | req/s (rounds) | ×bare | app CPU µs/req | ×bare | p50 ms | ×bare | p99 ms | ×bare | DynamoDB calls/request | RCU/1k req | WCU/1k req | $/M req | DynamoDB bytes/req sent, received |',
  )
  lines.push(
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
  )
  for (const run of runs) {
    const cost = run.cost
    const errors = Object.entries(run.load.errors)
      .map(([name, count]) => `${count}× ${name}`)
      .join(', ')
    lines.push(
      `| ${run.workload} | ${run.label}${errors ? ` (errors: ${errors})` : ''} | ${run.load.rps.toFixed(0)}${spread(run)} | ${times(run.ratio?.rps)} | ` +
        `${fixed(run.cpuPerRequest, 1)} | ${times(run.ratio?.cpu)} | ` +
        `${fixed(run.load.p50, 2)} | ${times(run.ratio?.p50)} | ${fixed(run.load.p99, 2)} | ${times(run.ratio?.p99)} | ` +
        `${cost ? calls(cost.callsPerRequest) : ''} | ${cost ? fixed(cost.readUnitsPer1k, 0) : ''} | ${cost ? fixed(cost.writeUnitsPer1k, 0) : ''} | ` +
        `${cost ? `$${fixed(cost.dollarsPerMillion, 4)}` : ''} | ${cost ? `${fixed(cost.bytesInPerRequest, 0)}, ${fixed(cost.bytesOutPerRequest, 0)}` : ''} |`,
    )
  }
  lines.push('')
  lines.push('Workloads:')
  for (const workload of WORKLOADS) lines.push(`- ${workload.id}: ${workload.title}`)
  lines.push('')
  if (results.seeds.length > 0) {
    lines.push('Creating a session (the seeding requests, measured the same way):')
    lines.push('')
    lines.push('| system | DynamoDB calls per new session | RCU | WCU |')
    lines.push('| --- | --- | ---: | ---: |')
    for (const seed of results.seeds) {
      lines.push(
        `| ${seed.label} | ${calls(seed.callsPerSession)} | ${seed.readUnitsPerSession.toFixed(2)} | ${seed.writeUnitsPerSession.toFixed(2)} |`,
      )
    }
    lines.push('')
  }
  lines.push('#### Targets')
  lines.push('')
  lines.push('| area | target | measured | |')
  lines.push('| --- | --- | --- | --- |')
  for (const target of targets) {
    const verdict = target.met === undefined ? 'not measured' : target.met ? 'met' : '**missed**'
    lines.push(`| ${target.area} | ${target.target} | ${target.measured} | ${verdict} |`)
  }
  lines.push('')
  lines.push(
    compression.supported
      ? `Compression: the 50 KB session's item is ${compression.compressedBytes} bytes compressed, ${compression.plainBytes} bytes plain.`
      : `Compression: DynamoDBStore has no compression option yet, so there is no compressed row; the 50 KB session is a ${compression.plainBytes}-byte item, billed ${Math.ceil(compression.plainBytes / 1024)} WCU per write of any part of it.`,
  )
  lines.push('')
  const micro = results.micro
  if (micro && micro.benchmarks.length > 0) {
    lines.push('#### Hot path (vitest bench, microseconds per operation)')
    lines.push('')
    lines.push('| group | operation | median µs | mean µs | p99 µs |')
    lines.push('| --- | --- | ---: | ---: | ---: |')
    for (const bench of micro.benchmarks) {
      lines.push(
        `| ${bench.group} | ${bench.name} | ${bench.medianUs.toFixed(1)} | ${bench.meanUs.toFixed(1)} | ${bench.p99Us.toFixed(1)} |`,
      )
    }
    lines.push('')
  }
  if (micro?.cryptoCalls) {
    lines.push(
      `WebCrypto calls per request (middleware on MemoryStore, ${micro.cryptoCalls.requests} requests each):`,
    )
    lines.push('')
    lines.push('| request | plain | encrypt: true |')
    lines.push('| --- | --- | --- |')
    for (const [kind, counts] of Object.entries(micro.cryptoCalls.plain)) {
      const format = (entry: Record<string, number> | undefined) =>
        Object.entries(entry ?? {})
          .map(([method, count]) => `${method} ${count}`)
          .join(', ') || 'none'
      lines.push(`| ${kind} | ${format(counts)} | ${format(micro.cryptoCalls.encrypt[kind])} |`)
    }
    lines.push('')
  }
  if (micro?.error) lines.push(`The micro-benchmark failed: ${micro.error}`, '')
  return `${lines.join('\n')}\n`
}
