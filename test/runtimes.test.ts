// The portable conformance suite (test/runtimes/suite.ts) on Node, Deno, Bun and workerd, each
// importing the built package; one vitest test per case per runtime. A cookie minted on Deno is
// read on the other three, and one minted on workerd is read on Deno.
import { execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, inject, test } from 'vitest'
import { buildPackage, type Runtime, type RuntimeRun, root, runRuntime, runtimes } from './runtimes/run.ts'
import { type CaseResult, cases } from './runtimes/suite.ts'

const ACCEPTS = 'cross-runtime: accepts'
const runs = new Map<Runtime, RuntimeRun | Error>()
const readBack = new Map<Runtime, RuntimeRun | Error>()

const settle = (run: Promise<RuntimeRun>) => run.catch((error: unknown) => error as Error)

beforeAll(async () => {
  await buildPackage()
  const endpoint = inject('dynamodbEndpoint')
  // Deno mints first; the other three run in parallel and read its cookie; Deno reads workerd's.
  const deno = await settle(runRuntime('deno', endpoint))
  runs.set('deno', deno)
  const minted = deno instanceof Error ? undefined : deno.report.minted
  const others = ['node', 'bun', 'workerd'] as const
  const results = await Promise.all(others.map((runtime) => settle(runRuntime(runtime, endpoint, minted))))
  others.forEach((runtime, index) => {
    runs.set(runtime, results[index] as RuntimeRun | Error)
  })
  const workerd = runs.get('workerd')
  const fromWorkerd = workerd instanceof Error ? undefined : workerd?.report.minted
  if (fromWorkerd) readBack.set('deno', await settle(runRuntime('deno', endpoint, fromWorkerd, ACCEPTS)))
}, 180_000)

function resultOf(runtime: Runtime, name: string): CaseResult {
  const run = (name.startsWith(ACCEPTS) && readBack.get(runtime)) || runs.get(runtime)
  if (!run) throw new Error(`${runtime} did not run`)
  if (run instanceof Error) throw run
  const result = run.report.results.find((result) => result.name === name)
  if (!result) throw new Error(`${runtime} reported no "${name}": ${JSON.stringify(run.report.results)}`)
  return result
}

describe.each(['node', 'deno', 'bun', 'workerd'] as const)('%s', (runtime) => {
  test.each(cases.map((testCase) => testCase.name))('%s', (name) => {
    const result = resultOf(runtime, name)
    expect(result.error, result.error).toBeUndefined()
    expect(result.ok).toBe(true)
    // The reading runs were all given a foreign cookie: nothing here may pass by doing nothing.
    expect(result.skipped, `${runtime} skipped "${name}"`).toBeUndefined()
  })
})

// What keeps the core portable between runs of the suite: scripts/check-portable.mjs, part of
// `npm run check`, here run on a tree of its own.
describe('scripts/check-portable.mjs', () => {
  const checkPortable = (folder: string) =>
    promisify(execFile)(process.execPath, [join(root, 'scripts/check-portable.mjs'), folder], { cwd: root })

  test('rejects Node imports and globals outside node/, and nothing in comments, strings or node/', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'check-portable-'))
    try {
      await mkdir(join(folder, 'node'))
      await writeFile(
        join(folder, 'fine.ts'),
        [
          "// process.env and require('fs') in a comment",
          "import type { Readable } from 'node:stream'",
          "export const text = 'Buffer, __dirname and global in a string'",
          'export const own = { process: 1, global: 2 }.process',
          'export const shadowed = (process: number) => process',
          'export type Stream = Readable',
        ].join('\n'),
      )
      await writeFile(join(folder, 'node', 'cli.ts'), "import 'node:fs'\nexport const argv = process.argv\n")
      await expect(checkPortable(folder)).resolves.toMatchObject({
        stdout: expect.stringContaining('1 files'),
      })

      await writeFile(
        join(folder, 'bad.ts'),
        [
          "import { readFile } from 'fs/promises'",
          "import { createHash } from 'node:crypto'",
          'export const all = [readFile, createHash, process.env, Buffer.from(""), __dirname, global]',
          "export const later = () => import('node:os')",
        ].join('\n'),
      )
      const failure = await checkPortable(folder).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      )
      expect(failure?.code).toBe(1)
      for (const problem of [
        'imports the Node built-in "fs/promises"',
        'imports the Node built-in "node:crypto"',
        'imports the Node built-in "node:os" (dynamic-import)',
        'bad.ts:3: uses the Node-only global "process"',
        'uses the Node-only global "Buffer"',
        'uses the Node-only global "__dirname"',
        'uses the Node-only global "global"',
      ]) {
        expect(failure?.stderr).toContain(problem)
      }
      expect(failure?.stderr).not.toContain('fine.ts')
      expect(failure?.stderr).not.toContain('cli.ts')
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})

// Deno 2.9 prints a deprecation warning once a Deno.serve handler reads request.signal (its legacy
// abort fires on successful responses too). The library never reads it on Deno: a server that
// creates, reads, changes, moves and ends sessions prints nothing to stderr. Uses the package
// built by the beforeAll above.
describe('a Deno.serve server using the built package', () => {
  test('prints nothing to stderr', async () => {
    const [deno, , ...flags] = runtimes.deno
    const args = ['run', ...flags.filter((flag) => flag.startsWith('--')), 'test/runtimes/deno-serve.ts']
    const server = spawn(deno, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const closed = new Promise((resolve) => server.once('close', resolve))
    try {
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no READY line; stderr: ${stderr}`)), 30_000)
        let stdout = ''
        server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk
          const match = /READY (\d+)/.exec(stdout)
          if (match) {
            clearTimeout(timer)
            resolve(match[1] as string)
          }
        })
      })
      let cookie = ''
      const send = async (path: string) => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: cookie ? { cookie } : {} })
        const set = response.headers.getSetCookie()[0]?.split(';')[0]
        if (set) cookie = set
        return response.text()
      }
      expect(await send('/none')).toBe('no session here')
      expect(await send('/write')).toBe('1')
      expect(await send('/write')).toBe('2')
      expect(await send('/read')).toBe('2')
      expect(await send('/regenerate')).toBe('moved')
      expect(await send('/read')).toBe('2')
      expect(await send('/destroy')).toBe('ended')
      expect(await send('/read')).toBe('0')
    } finally {
      server.kill('SIGTERM')
      await closed
    }
    expect(stderr).toBe('')
  }, 60_000)
})
