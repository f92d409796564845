// The README's quick start, followed as a new user would: its commands and its server.ts, taken
// from README.md itself, run in a fresh folder against the run's DynamoDB Local, with the package
// installed from the tarball `npm pack` makes. The only edits to the README's text are the ones a
// test must make: the tarball instead of the registry name, this run's DynamoDB Local endpoint,
// and a table name of its own.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { uniqueTableName } from './support/dynamodb.ts'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const README_ENDPOINT = 'http://127.0.0.1:8000'

/** The README's fenced blocks of one language, in order. */
function blocks(markdown: string, language: string): string[] {
  return [...markdown.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(
    (match) => match[1] ?? '',
  )
}

/** `text` with each [from, to] replaced, failing if the README no longer says `from`. */
function edit(text: string, replacements: [string, string][]): string {
  let edited = text
  for (const [from, to] of replacements) {
    expect(edited, `the README's quick start no longer contains "${from}"`).toContain(from)
    edited = edited.replaceAll(from, to)
  }
  return edited
}

/**
 * `npm pack` of a copy of the package's sources: the copy builds its own dist/, so a test
 * building the repository's dist/ at the same time (test/runtimes.test.ts) cannot interfere.
 */
async function packTarball(work: string): Promise<string> {
  const copy = join(work, 'package')
  await mkdir(copy)
  for (const file of [
    'package.json',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    'tsconfig.json',
    'tsconfig.build.json',
    'tsconfig.node.json',
  ]) {
    await cp(join(root, file), join(copy, file))
  }
  await cp(join(root, 'src'), join(copy, 'src'), { recursive: true })
  await symlink(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir')
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--silent'], {
    cwd: copy,
    env: userEnvironment({}),
  })
  return join(work, stdout.trim().split('\n').pop() ?? '')
}

/**
 * The environment of a new terminal: without the npm_* variables of the `npm run`/`npx` that
 * started vitest, which would carry this repository's .npmrc settings into the fresh folder.
 */
function userEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))
  return { ...env, ...extra }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      )
    })
  })
}

let work = ''
let app = ''
let server: ChildProcess | undefined
let installLog = ''
let origin = ''

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'readme-quick-start-'))
  app = join(work, 'app')
  await mkdir(app)
  const tarball = await packTarball(work)
  const tableName = uniqueTableName('readme')
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Usage'))
  const [setup = '', start = ''] = blocks(quickStart, 'sh')
  const [serverTs = ''] = blocks(quickStart, 'ts')

  const commands = edit(setup, [
    ['npm install dynamodb-session ', `npm install ${tarball} `],
    [README_ENDPOINT, inject('dynamodbEndpoint')],
    ['--table-name sessions', `--table-name ${tableName}`],
  ])
  // The npm cache answers what it can; the registry the rest (hono, @hono/node-server, tsx).
  const npmEnv = { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' }
  const setupRun = await run('bash', ['-euo', 'pipefail', '-c', commands], {
    cwd: app,
    env: userEnvironment({ ...npmEnv, NO_COLOR: '1' }),
    timeout: 180_000,
  })
  installLog = setupRun.stdout + setupRun.stderr

  expect(serverTs.startsWith('// server.ts\n')).toBe(true)
  await writeFile(
    join(app, 'server.ts'),
    edit(serverTs, [["tableName: 'sessions'", `tableName: '${tableName}'`]]),
  )
  // The start block's first line, in the same shell settings the setup block exported.
  const exports = commands.split('\n').filter((line) => line.startsWith('export '))
  const startLine = start.split('\n').find((line) => line.startsWith('npx tsx server.ts')) ?? ''
  expect(startLine).not.toBe('')
  const port = await freePort()
  origin = `http://localhost:${port}`
  server = spawn('bash', ['-c', [...exports, `exec ${startLine.split('#')[0]}`].join('\n')], {
    cwd: app,
    env: userEnvironment({ PORT: String(port) }),
    stdio: 'ignore',
    detached: true, // its own process group, so afterAll ends npx, tsx and node together
  })
  const deadline = Date.now() + 30_000
  for (;;) {
    const ready = await fetch(`${origin}/health-probe`).then(
      () => true,
      () => false,
    )
    if (ready) break
    if (Date.now() > deadline) throw new Error('the quick start server did not listen within 30 s')
    await new Promise((done) => setTimeout(done, 250))
  }
}, 240_000)

afterAll(async () => {
  if (server?.pid) {
    try {
      process.kill(-server.pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  if (work) await rm(work, { recursive: true, force: true })
})

describe('the README quick start, followed in a fresh folder', () => {
  test('counts visits in a session kept in DynamoDB Local, behind a secure cookie', async () => {
    const first = await fetch(`${origin}/`)
    expect(await first.text()).toBe('Visits: 1')
    const setCookie = first.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^sid=[\w-]+\.[\w-]+;/)
    expect(setCookie).toMatch(/; HttpOnly/i)
    expect(setCookie).toMatch(/; Secure/i)
    expect(setCookie).toMatch(/; SameSite=Lax/i)

    const cookie = setCookie.split(';')[0] ?? ''
    const second = await fetch(`${origin}/`, { headers: { cookie } })
    expect(await second.text()).toBe('Visits: 2')
    const third = await fetch(`${origin}/`, { headers: { cookie } })
    expect(await third.text()).toBe('Visits: 3')
    // A stranger's request does not see that count.
    expect(await (await fetch(`${origin}/`)).text()).toBe('Visits: 1')
  })

  test('installing the package runs no install script of its own', async () => {
    expect(installLog).not.toMatch(/dynamodb-session@[\d.]+ \(/) // npm's "pkg@version (script: …)" lines
    const manifest = JSON.parse(
      await readFile(join(app, 'node_modules/dynamodb-session/package.json'), 'utf8'),
    )
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) {
      expect(manifest.scripts?.[script], `published scripts.${script}`).toBeUndefined()
    }
    expect(manifest.allowScripts).toBeUndefined()
    expect(manifest.engines.node).toBe('^20.19.0 || >=22.12.0')
  })

  test('require() loads the ESM-only package on this Node, as engines promises', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '-e',
        "const m = require('dynamodb-session'); console.log(typeof m.sessionMiddleware, typeof m.DynamoDBStore)",
      ],
      { cwd: app },
    )
    expect(stdout.trim()).toBe('function function')
  })

  test('go-to-definition leads from the types to the TypeScript sources shipped beside them', async () => {
    const installed = join(app, 'node_modules/dynamodb-session')
    const dist = join(installed, 'dist')
    const maps = (await readdir(dist, { recursive: true })).filter((file) => file.endsWith('.d.ts.map'))
    expect(maps).toEqual(
      expect.arrayContaining(['index.d.ts.map', 'adapters/hono.d.ts.map', 'node/index.d.ts.map']),
    )
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(join(dist, map), 'utf8')) as { sources: string[] }
      expect(sources).toHaveLength(1)
      const source = resolve(dirname(join(dist, map)), sources[0] ?? '')
      // dist/core/session.d.ts.map → src/core/session.ts, inside the installed package.
      expect(source).toBe(join(installed, 'src', map.replace(/\.d\.ts\.map$/, '.ts')))
      expect((await readFile(source, 'utf8')).length, `${map} → ${sources[0]}`).toBeGreaterThan(0)
    }
  })
})
