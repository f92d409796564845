// Runs the micro-benchmark (vitest bench) and the WebCrypto call count, each in a process of its
// own, and returns their numbers in microseconds and calls per request.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../processes.ts'

const run = promisify(execFile)

export interface MicroResult {
  group: string
  name: string
  /** Microseconds per operation. */
  medianUs: number
  meanUs: number
  p99Us: number
  samples: number
}

export interface CryptoCalls {
  requests: number
  /** WebCrypto calls per request, by method, per kind of request. */
  plain: Record<string, Record<string, number>>
  encrypt: Record<string, Record<string, number>>
}

export interface Micro {
  benchmarks: MicroResult[]
  cryptoCalls: CryptoCalls | undefined
  error?: string
}

interface VitestBench {
  name: string
  median?: number
  mean: number
  p99: number
  sampleCount?: number
}

export async function runMicro(log: (line: string) => void): Promise<Micro> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-micro-'))
  const micro: Micro = { benchmarks: [], cryptoCalls: undefined }
  try {
    log('micro-benchmark (vitest bench)')
    const output = join(dir, 'micro.json')
    await run(
      process.execPath,
      [
        join(ROOT, 'node_modules/vitest/vitest.mjs'),
        'bench',
        '--run',
        '--config',
        'bench/micro/vitest.config.ts',
        '--outputJson',
        output,
      ],
      { cwd: ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 },
    )
    const report = JSON.parse(await readFile(output, 'utf8')) as {
      files: { groups: { fullName: string; benchmarks: VitestBench[] }[] }[]
    }
    for (const file of report.files) {
      for (const group of file.groups) {
        for (const bench of group.benchmarks) {
          // vitest reports milliseconds.
          micro.benchmarks.push({
            group: group.fullName.split(' > ').slice(1).join(' > '),
            name: bench.name,
            medianUs: (bench.median ?? bench.mean) * 1000,
            meanUs: bench.mean * 1000,
            p99Us: bench.p99 * 1000,
            samples: bench.sampleCount ?? 0,
          })
        }
      }
    }
    log('WebCrypto calls per request')
    const { stdout } = await run(
      process.execPath,
      ['--no-warnings', '--import', 'tsx', 'bench/micro/crypto-calls.ts'],
      { cwd: ROOT, timeout: 120_000 },
    )
    micro.cryptoCalls = JSON.parse(stdout) as CryptoCalls
  } catch (error) {
    micro.error = (error as Error).message.slice(0, 2000)
    log(`micro-benchmark failed: ${micro.error}`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return micro
}
