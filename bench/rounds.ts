// One system's rounds of one workload, summed up: speed from the round with the median req/s
// (other work on the machine only ever slows a round down, and the median ignores the worst and
// the luckiest), DynamoDB calls and capacity from all rounds together.
import { type Cost, costOf } from './cost.ts'
import type { LoadResult } from './load.ts'
import { emptyStats, type OperationStats, type ProxyStats } from './proxy.ts'
import type { System } from './systems.ts'

export interface Round {
  load: LoadResult
  /** Requests sent by the warm-up and the measured window together. */
  sent: number
  /** Proxy counts of the measured window; absent for systems without DynamoDB. */
  stats?: ProxyStats
  /** Distinct sessions the round's requests carried cookies of. */
  sessions: number
  /** The 1-minute load average as the round started. */
  loadAverage: number
  /** The server process's CPU time (user + system) per answered request, in microseconds. */
  cpuPerRequest: number
}

export interface RunResult {
  workload: string
  system: string
  label: string
  /** The median round's. */
  load: LoadResult
  /** All rounds: calls and capacity per request. Absent for systems without DynamoDB. */
  cost?: Cost
  /** All rounds' proxy counts added up (keys and maxPerKey: the largest of one round). */
  stats?: ProxyStats
  /** The app's CPU time per request, in microseconds: the median of the rounds'. */
  cpuPerRequest: number
  ratio?: { rps: number; p50: number; p99: number; cpu: number }
  sessions: number
  loadAverage: number
  rounds: Round[]
}

export function summarize(
  workload: string,
  system: System,
  rounds: Round[],
  baseline: RunResult | undefined,
): RunResult {
  const ordered = [...rounds].sort((a, b) => a.load.rps - b.load.rps)
  const median = ordered[Math.floor((ordered.length - 1) / 2)]
  if (!median) throw new Error(`${workload} ${system.id}: no rounds`)
  const run: RunResult = {
    workload,
    system: system.id,
    label: system.label,
    load: median.load,
    cpuPerRequest: medianOf(rounds.map((round) => round.cpuPerRequest)),
    sessions: median.sessions,
    loadAverage: Math.max(...rounds.map((round) => round.loadAverage)),
    rounds,
  }
  if (system.dynamodb) {
    const stats = merge(rounds.map((round) => round.stats ?? {}))
    run.stats = stats
    run.cost = costOf(
      stats,
      rounds.reduce((total, round) => total + round.load.requests, 0),
    )
  }
  if (baseline && !system.baseline) {
    run.ratio = {
      rps: run.load.rps / baseline.load.rps,
      p50: run.load.p50 / baseline.load.p50,
      p99: run.load.p99 / baseline.load.p99,
      cpu: run.cpuPerRequest / baseline.cpuPerRequest,
    }
  }
  return run
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN
}

function merge(all: ProxyStats[]): ProxyStats {
  const merged: ProxyStats = {}
  for (const stats of all) {
    for (const [operation, entry] of Object.entries(stats)) {
      const into: OperationStats = merged[operation] ?? emptyStats()
      merged[operation] = into
      into.count += entry.count
      into.bytesIn += entry.bytesIn
      into.bytesOut += entry.bytesOut
      into.capacityUnits += entry.capacityUnits
      into.consistentReads += entry.consistentReads
      into.keys = Math.max(into.keys, entry.keys)
      into.maxPerKey = Math.max(into.maxPerKey, entry.maxPerKey)
      for (const [type, count] of Object.entries(entry.errors))
        into.errors[type] = (into.errors[type] ?? 0) + count
    }
  }
  return merged
}
