// The targets of issues 6 and 12, each checked against this run's numbers. A target is met, missed, or
// not measured (met: undefined) when the run lacks what it needs; the workload is never changed
// to meet one.
import type { CompressionProbe } from './compression.ts'
import type { Micro } from './micro/run-micro.ts'
import type { RunResult } from './rounds.ts'

export interface Target {
  area: string
  target: string
  measured: string
  met: boolean | undefined
}

const READS = ['GetItem', 'Query', 'Scan', 'BatchGetItem']
const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']

export function evaluateTargets(
  runs: RunResult[],
  micro: Micro | undefined,
  compression: CompressionProbe,
  touchAfter: number,
): Target[] {
  const find = (workload: string, system: string) =>
    runs.find((run) => run.workload === workload && run.system === system)
  const sum = (run: RunResult | undefined, operations: string[]) =>
    operations.reduce((total, operation) => total + (run?.cost?.callsPerRequest[operation] ?? 0), 0)
  const all = (run: RunResult | undefined) =>
    Object.values(run?.cost?.callsPerRequest ?? {}).reduce((total, count) => total + count, 0)
  const n = (value: number, digits = 2) => value.toFixed(digits)
  const targets: Target[] = []
  const add = (
    area: string,
    target: string,
    needs: (RunResult | undefined)[],
    check: () => [string, boolean],
  ) => {
    if (needs.some((run) => !run)) {
      targets.push({ area, target, measured: 'not run', met: undefined })
      return
    }
    const [measured, met] = check()
    targets.push({ area, target, measured, met })
  }

  const lib = (workload: string) => find(workload, 'lib')
  const connect = (workload: string) => find(workload, 'connect')

  for (const workload of ['W1', 'W5']) {
    add('calls', `${workload}: zero DynamoDB calls`, [lib(workload)], () => [
      `${n(all(lib(workload)))} calls/request`,
      all(lib(workload)) === 0,
    ])
  }
  add('calls', 'W2: one read and no write per request (default touchAfter)', [lib('W2')], () => {
    const reads = sum(lib('W2'), READS)
    const writes = sum(lib('W2'), WRITES)
    return [`${n(reads)} reads, ${n(writes, 4)} writes/request`, reads <= 1 && writes === 0]
  })
  const touch = find('W2', 'lib-touch1s')
  add('calls', 'W2: touches amortised to at most 1 per touchAfter per session', [touch], () => {
    const run = touch as RunResult
    const touches = run.stats?.UpdateItem?.count ?? 0
    const seconds = run.rounds.reduce((total, round) => total + round.load.seconds, 0)
    const requests = run.rounds.reduce((total, round) => total + round.load.requests, 0)
    const longest = Math.max(...run.rounds.map((round) => round.load.seconds))
    // Timestamps are whole seconds: a round of T seconds spans up to ceil(T) + 1 of them, and a
    // session may be touched once in each (touchAfter 1 s), so that is the most one session may get.
    const allowed = Math.ceil(longest / touchAfter) + 1
    const most = run.stats?.UpdateItem?.maxPerKey ?? 0
    return [
      `touchAfter ${touchAfter} s, ${run.rounds.length} rounds of ${n(longest, 1)} s, ${run.sessions} sessions: ` +
        `${n(touches / run.sessions / (seconds / touchAfter))} touches per session per touchAfter on average; ` +
        `at most ${most} for one session in a round (${allowed} allowed: a round spans up to ${allowed} whole seconds); ` +
        `${n(touches / requests, 3)} per request`,
      most <= allowed,
    ]
  })
  add('calls', 'W3: at most one read and one write per request', [lib('W3')], () => {
    const reads = sum(lib('W3'), READS)
    const writes = sum(lib('W3'), WRITES)
    return [`${n(reads)} reads, ${n(writes)} writes/request`, reads <= 1 && writes <= 1]
  })
  add(
    'calls',
    'never a read before a write that does not need it (W3b: set() without get())',
    [lib('W3b')],
    () => {
      const reads = sum(lib('W3b'), READS)
      return [`${n(reads)} reads, ${n(sum(lib('W3b'), WRITES))} writes/request`, reads === 0]
    },
  )

  const eventual = find('W2', 'lib-eventual')
  add('capacity', 'W2, strong reads: at most 1 RCU and no WCU per request', [lib('W2')], () => {
    const cost = lib('W2')?.cost
    return [
      `${n((cost?.readUnitsPer1k ?? 0) / 1000)} RCU, ${n((cost?.writeUnitsPer1k ?? 0) / 1000, 4)} WCU/request`,
      (cost?.readUnitsPer1k ?? 0) <= 1000 && (cost?.writeUnitsPer1k ?? 0) === 0,
    ]
  })
  add(
    'capacity',
    'W2, eventually consistent reads: at most 0.5 RCU and no WCU per request',
    [eventual],
    () => {
      const cost = eventual?.cost
      return [
        `${n((cost?.readUnitsPer1k ?? 0) / 1000)} RCU, ${n((cost?.writeUnitsPer1k ?? 0) / 1000, 4)} WCU/request`,
        (cost?.readUnitsPer1k ?? 0) <= 500 && (cost?.writeUnitsPer1k ?? 0) === 0,
      ]
    },
  )
  for (const [label, run] of [
    ['strong reads', lib('W2')],
    ['eventually consistent reads', eventual],
  ] as const) {
    add('capacity', `W2 at least 10x cheaper than connect-dynamodb (${label})`, [run, connect('W2')], () => {
      const ours = run?.cost?.dollarsPerMillion ?? 0
      const theirs = connect('W2')?.cost?.dollarsPerMillion ?? 0
      const factor = theirs / ours
      return [
        `$${n(ours, 4)} vs $${n(theirs, 4)} per million requests: ${n(factor, 1)}x cheaper`,
        factor >= 10,
      ]
    })
  }

  // Issue 12: a session the route never uses costs no more than a no-op middleware.
  for (const workload of ['W1', 'W5']) {
    add('hot path', `${workload} at least 0.9x the bare app's req/s`, [lib(workload)], () => {
      const run = lib(workload) as RunResult
      const noop = find(workload, 'bare-noop')
      return [
        `${n(run.ratio?.rps ?? 0)}x req/s, ${n(run.cpuPerRequest, 1)} µs app CPU/request (${n(run.ratio?.cpu ?? 0)}x)` +
          (noop ? `; a no-op middleware: ${n(noop.ratio?.rps ?? 0)}x, ${n(noop.cpuPerRequest, 1)} µs` : ''),
        (run.ratio?.rps ?? 0) >= 0.9,
      ]
    })
  }
  const memoryRead = find('W2', 'lib-memory')
  add(
    'hot path',
    "W2 on MemoryStore (~1.2 KB session) at least 0.5x the bare app's req/s",
    [memoryRead],
    () => {
      const run = memoryRead as RunResult
      const noop = find('W2', 'bare-noop')
      return [
        `${n(run.ratio?.rps ?? 0)}x req/s, ${n(run.cpuPerRequest, 1)} µs app CPU/request (${n(run.ratio?.cpu ?? 0)}x)` +
          (noop ? `; a no-op middleware: ${n(noop.ratio?.rps ?? 0)}x, ${n(noop.cpuPerRequest, 1)} µs` : ''),
        (run.ratio?.rps ?? 0) >= 0.5,
      ]
    },
  )
  for (const [workload, kind, limit] of [
    ['W2', 'read', 1.3],
    ['W3', 'write', 1.5],
  ] as const) {
    const sealed = find(workload, 'lib-encrypt')
    const plain = lib(workload)
    add(
      'hot path',
      `encrypt: true, a ${kind} (${workload}): at most ${limit}x the unencrypted app CPU`,
      [sealed, plain],
      () => {
        const ratio = (sealed as RunResult).cpuPerRequest / (plain as RunResult).cpuPerRequest
        const memorySealed = find(workload, 'lib-memory-encrypt')
        const memoryPlain = find(workload, 'lib-memory')
        const memory =
          memorySealed && memoryPlain
            ? `; on MemoryStore ${n(memorySealed.cpuPerRequest, 1)} vs ${n(memoryPlain.cpuPerRequest, 1)} µs: ` +
              `${n(memorySealed.cpuPerRequest / memoryPlain.cpuPerRequest)}x`
            : ''
        return [
          `DynamoDB ${n((sealed as RunResult).cpuPerRequest, 0)} vs ${n((plain as RunResult).cpuPerRequest, 0)} µs: ${n(ratio)}x${memory}`,
          ratio <= limit,
        ]
      },
    )
  }
  add('throughput', 'W5 within 10% of the bare app', [lib('W5')], () => {
    const ratio = lib('W5')?.ratio?.rps ?? 0
    const noop = find('W5', 'bare-noop')?.ratio?.rps
    return [
      `${n(ratio * 100, 0)}% of the bare app's req/s` +
        (noop === undefined ? '' : ` (a no-op middleware: ${n(noop * 100, 0)}%)`),
      ratio >= 0.9,
    ]
  })
  for (const workload of ['W2', 'W4']) {
    add(
      'throughput',
      `${workload} at least 2x connect-dynamodb's req/s`,
      [lib(workload), connect(workload)],
      () => {
        const factor = (lib(workload)?.load.rps ?? 0) / (connect(workload)?.load.rps ?? 1)
        return [`${n(factor)}x`, factor >= 2]
      },
    )
  }
  for (const workload of ['W2', 'W3']) {
    const memory = find(workload, 'lib-memory')
    add('throughput', `MemoryStore: ${workload} at least 80% of the bare app`, [memory], () => {
      const ratio = memory?.ratio?.rps ?? 0
      return [`${n(ratio * 100, 0)}% of the bare app's req/s`, ratio >= 0.8]
    })
  }

  add('large sessions', 'W6: an unchanged read writes nothing', [lib('W6r')], () => {
    const writes = sum(lib('W6r'), WRITES)
    return [
      `${n(writes, 4)} writes, ${n(lib('W6r')?.cost?.writeUnitsPer1k ?? 0)} WCU per 1,000 requests`,
      writes === 0,
    ]
  })
  const compressed = find('W6w', 'lib-compress')
  if (!compression.supported) {
    targets.push({
      area: 'large sessions',
      target: 'W6: compression of large data as an option, and the write units it saves',
      measured: `not measured: DynamoDBStore has no compression option yet (the 50 KB session is a ${compression.plainBytes}-byte item)`,
      met: undefined,
    })
  } else {
    const compressedRead = find('W6r', 'lib-compress')
    add(
      'large sessions',
      'W6: compression of large data as an option, and the write units it saves',
      [lib('W6w'), compressed, lib('W6r'), compressedRead],
      () => {
        const plain = lib('W6w')?.cost?.writeUnitsPer1k ?? 0
        const packed = compressed?.cost?.writeUnitsPer1k ?? 0
        const readPlain = lib('W6r')?.cost?.readUnitsPer1k ?? 0
        const readPacked = compressedRead?.cost?.readUnitsPer1k ?? 0
        const rps = (run: RunResult | undefined) => (run?.load.rps ?? 0).toFixed(0)
        return [
          `item ${compression.plainBytes} -> ${compression.compressedBytes} bytes; W6w ${n(plain / 1000, 1)} -> ` +
            `${n(packed / 1000, 1)} WCU/request (${n((1 - packed / plain) * 100, 0)}% saved), W6r ` +
            `${n(readPlain / 1000, 1)} -> ${n(readPacked / 1000, 1)} RCU/request; the CPU it costs: req/s W6r ` +
            `${rps(lib('W6r'))} -> ${rps(compressedRead)}, W6w ${rps(lib('W6w'))} -> ${rps(compressed)}`,
          packed < plain,
        ]
      },
    )
  }

  const calls = micro?.cryptoCalls?.plain
  const kinds = Object.entries(calls ?? {})
  targets.push({
    area: 'hot path',
    target: 'CryptoKeys imported once: no importKey per request',
    measured: calls
      ? kinds.map(([kind, counts]) => `${kind.split(' ')[0]} ${n(counts.importKey ?? 0)}`).join(', ') +
        ' importKey/request'
      : 'not run',
    met: calls ? kinds.every(([, counts]) => (counts.importKey ?? 0) === 0) : undefined,
  })
  targets.push({
    area: 'hot path',
    // At most once: a returning cookie's check is remembered (src/recent.ts), so repeats cost none.
    target: 'the signed cookie verified at most once per request',
    measured: calls
      ? kinds.map(([kind, counts]) => `${kind.split(' ')[0]} ${n(counts.verify ?? 0)}`).join(', ') +
        ' verify/request'
      : 'not run',
    met: calls ? kinds.every(([, counts]) => (counts.verify ?? 0) <= 1) : undefined,
  })
  return targets
}
