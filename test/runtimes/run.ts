// Runs the conformance suite on one runtime as a child process and reads its JSON line.
// `tsx test/runtimes/run.ts deno` (npm run test:deno) builds the package and starts DynamoDB
// Local first unless DYNAMODB_ENDPOINT points at one; test/runtimes.test.ts runs all four.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { SuiteReport } from './suite.ts'

export const root = fileURLToPath(new URL('../..', import.meta.url))
const bin = (name: string) => `${root}node_modules/.bin/${name}`

/** The command line of each runtime's runner, from the repository root. */
export const runtimes = {
  node: [process.execPath, '--import', 'tsx', 'test/runtimes/node.ts'],
  deno: [
    bin('deno'),
    'run',
    '--allow-net=127.0.0.1',
    '--allow-env',
    '--allow-sys=osRelease',
    '--allow-read=node_modules,dist,test/runtimes',
    'test/runtimes/deno.ts',
  ],
  bun: [bin('bun'), 'test/runtimes/bun.ts'],
  workerd: [process.execPath, '--import', 'tsx', 'test/runtimes/workerd.ts'],
} as const

export type Runtime = keyof typeof runtimes

export interface RuntimeRun {
  report: SuiteReport
  /** Wall time of the child process, start-up included. */
  ms: number
  stderr: string
}

/** Runs `runtime`'s suite against DynamoDB Local at `endpoint`; rejects when it prints no report. */
export function runRuntime(
  runtime: Runtime,
  endpoint: string,
  foreign?: { cookie: string; table: string },
  only?: string,
): Promise<RuntimeRun> {
  const [command, ...args] = runtimes[runtime]
  const env: NodeJS.ProcessEnv = { ...process.env, DYNAMODB_ENDPOINT: endpoint, NO_COLOR: '1' }
  if (only) env.SUITE_ONLY = only
  if (foreign) Object.assign(env, { FOREIGN_COOKIE: foreign.cookie, FOREIGN_TABLE: foreign.table })
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const line = stdout
        .split('\n')
        .reverse()
        .find((text) => text.startsWith('{'))
      if (!line) {
        reject(new Error(`${runtime} printed no report (exit ${code ?? signal}):\n${stdout}\n${stderr}`))
        return
      }
      resolve({ report: JSON.parse(line) as SuiteReport, ms: Date.now() - started, stderr })
    })
  })
}

/** `npm run build`, so the runners import the package as published. */
export function buildPackage(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`npm run build exited ${code}`))))
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runtime = process.argv[2] as Runtime
  if (!(runtime in runtimes))
    throw new Error(`Usage: tsx test/runtimes/run.ts ${Object.keys(runtimes).join('|')}`)
  await buildPackage()
  let endpoint = process.env.DYNAMODB_ENDPOINT
  let stop = async () => {}
  if (!endpoint) {
    // @ts-expect-error: a plain-JavaScript script shared with `npm run dynamodb-local`, without types
    const local = await import('../../scripts/dynamodb-local.mjs')
    await local.ensureDynamoDBLocal()
    const started = await local.startDynamoDBLocal()
    endpoint = started.endpoint as string
    stop = started.stop
  }
  try {
    const { report, ms } = await runRuntime(runtime, endpoint)
    for (const result of report.results) {
      console.log(
        `${result.skipped ? 'skip' : result.ok ? 'ok  ' : 'FAIL'} ${runtime}: ${result.name} (${result.ms} ms)`,
      )
      if (result.error) console.log(`     ${result.error}`)
    }
    console.log(`${runtime}: ${report.ok ? 'passed' : 'FAILED'} in ${ms} ms`)
    process.exitCode = report.ok ? 0 : 1
  } finally {
    await stop()
  }
}
