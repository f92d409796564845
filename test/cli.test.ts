// `npx dynamodb-session`, run as a real process against AWS's DynamoDB Local: exit codes, --json,
// and one-line errors. The terminal progress line is checked in-process, with a fake terminal.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { flagName, OPTION_PATHS } from '../src/config/config.ts'
import { DynamoDBStore } from '../src/dynamodb/store.ts'
import { main } from '../src/node/commands.ts'
import { helpText, parseCommandLine, UsageError } from '../src/node/flags.ts'
import { nowInSeconds } from '../src/store/store.ts'
import { localClient, scanAll, uniqueTableName } from './support/dynamodb.ts'

const client = localClient()
afterAll(() => client.destroy())
const home = mkdtempSync(join(tmpdir(), 'dynamodb-session-cli-'))

/** The environment of a machine with no AWS settings at all, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('AWS_')) env[name] = value
  }
  return {
    ...env,
    HOME: home, // no ~/.aws
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true', // never ask the instance metadata service
    ...extra,
  }
}

/** DynamoDB Local's endpoint and fake credentials, as an operator would set them. */
function localEnv(extra: Record<string, string> = {}) {
  return cleanEnv({
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_REGION: 'us-east-1',
    AWS_DYNAMO_DB_SESSION_ENDPOINT: inject('dynamodbEndpoint'),
    ...extra,
  })
}

function cli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/cli.ts', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * The CLI's `main` in this process, for the many cases that never reach DynamoDB: what cli.ts
 * does around it (exit status, streams) is covered by the cases that spawn it.
 */
async function run(args: string[], env: Record<string, string>) {
  let stdout = ''
  let stderr = ''
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    signal: new AbortController().signal,
  }
  const code = await main(args, io)
  return { code, stdout, stderr }
}

/** One line on stderr, prefixed with the program's name. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean)
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^dynamodb-session: /)
  return lines[0] as string
}

describe('dynamodb-session create-table, check-table, gc, delete-table', () => {
  const tableName = uniqueTableName('cli')

  it('creates the table, on-demand with TTL, and a second run finds it right', async () => {
    const first = await cli(['create-table', '--table-name', tableName], localEnv())
    expect(first).toMatchObject({ code: 0, stderr: '' })
    expect(first.stdout).toBe(
      `Created table "${tableName}": partition key session_id (S), on-demand billing, TTL ENABLED on expire_at.\n`,
    )
    const second = await cli(
      ['create-table', '--json'],
      localEnv({ AWS_DYNAMO_DB_SESSION_TABLE_NAME: tableName }),
    )
    expect(second.code).toBe(0)
    expect(JSON.parse(second.stdout)).toMatchObject({
      command: 'create-table',
      created: false,
      billingMode: 'PAY_PER_REQUEST',
      ttl: { status: 'ENABLED', attribute: 'expire_at' },
      problems: [],
    })
  }, 30_000)

  it('checks the table, for people and for scripts', async () => {
    const human = await cli(['check-table', `--table-name=${tableName}`], localEnv())
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('TTL      ENABLED on expire_at')
    expect(human.stdout).toContain('OK: the table suits these options.')
    const json = await cli(['check-table', '--table-name', tableName, '--json'], localEnv())
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      exists: true,
      partitionKey: { name: 'session_id' },
    })
    // Options that do not suit the table: a problem, and exit status 1.
    const wrong = await cli(
      ['check-table', '--table-name', tableName, '--key-attribute', 'id', '--json'],
      localEnv(),
    )
    expect(wrong.code).toBe(1)
    expect(JSON.parse(wrong.stdout).problems).toEqual([
      expect.stringMatching(/partition key is "session_id", not "id"/),
    ])
  }, 30_000)

  it('reads the config file named by --config-file over the one the environment names', async () => {
    const named = join(home, 'named-by-flag.yml')
    writeFileSync(named, `table_name: ${tableName}\n`)
    const ignored = join(home, 'named-by-env.yml')
    writeFileSync(ignored, 'table_name: no-such-table\n')
    const env = localEnv({ AWS_DYNAMO_DB_SESSION_CONFIG_FILE: ignored })
    const result = await cli(['check-table', '--config-file', named, '--json'], env)
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toMatchObject({ command: 'check-table', tableName, exists: true })

    const missing = await cli(['check-table', `--config-file=${join(home, 'missing.yml')}`], env)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('(named by --config-file) cannot be read: ENOENT')
  })

  it('collects garbage with options from a config file, the environment and flags', async () => {
    const store = new DynamoDBStore({ client, tableName })
    const now = nowInSeconds()
    for (let index = 0; index < 30; index++) {
      const kind = index % 3 // 0 live, 1 idle for 6 hours, 2 expired
      const updatedAt = kind === 1 ? now - 6 * 3600 : now - 60
      const expiresAt = kind === 2 ? now - 1 : now + 86_400
      await store.create({ key: `k${index}`, data: { kind }, createdAt: updatedAt, updatedAt, expiresAt })
    }
    const file = join(home, 'sessions.yml')
    writeFileSync(file, `table_name: ${tableName}\nsegments: 2\n`)
    const env = localEnv({ AWS_DYNAMO_DB_SESSION_CONFIG_FILE: file, AWS_DYNAMO_DB_SESSION_MAX_STALE: '1d' })
    const result = await cli(['gc', '--max-stale', '5h', '--segments', '3', '--json'], env)
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toMatchObject({
      command: 'gc',
      tableName,
      scanned: 30,
      deleted: 20,
      retried: 0,
      segments: 3,
      aborted: false,
    })
    expect((await scanAll(client, tableName)).map((item) => item.data?.M?.kind?.S)).toEqual(
      Array(10).fill('0'),
    )

    const plain = await cli(['gc'], env)
    expect(plain.code).toBe(0)
    expect(plain.stdout).toMatch(
      new RegExp(
        `^Deleted 0 of 10 items scanned from "${tableName}" in \\d+\\.\\d s \\(\\d+ items/s\\); 0 skipped \\(active again, or already gone\\); 0 requests retried\\.\\n$`,
      ),
    )
  }, 30_000)

  it('deletes the table only with --yes', async () => {
    const refused = await cli(['delete-table', '--table-name', tableName], localEnv())
    expect(refused.code).toBe(2)
    expect(oneLine(refused.stderr)).toBe(
      `dynamodb-session: delete-table deletes table "${tableName}" and every session in it: add --yes to confirm.`,
    )
    const deleted = await cli(['delete-table', '--table-name', tableName, '--yes', '--json'], localEnv())
    expect(deleted.code).toBe(0)
    expect(JSON.parse(deleted.stdout)).toEqual({ command: 'delete-table', tableName, deleted: true })
  }, 30_000)
})

describe('dynamodb-session errors: one line and a non-zero exit status', () => {
  it('a missing table', async () => {
    const tableName = uniqueTableName('nowhere')
    const check = await cli(['check-table', '--table-name', tableName], localEnv())
    expect(check.code).toBe(1)
    expect(oneLine(check.stderr)).toBe(
      `dynamodb-session: Table "${tableName}" does not exist: create it with \`npx dynamodb-session create-table --table-name ${tableName}\` (or createTable()).`,
    )
    const gc = await cli(['gc', '--table-name', tableName, '--json'], localEnv())
    expect(gc.code).toBe(1)
    expect(oneLine(gc.stderr)).toMatch(/Table ".*" does not exist \(Scan\): create it with/)
    expect(JSON.parse(gc.stdout)).toMatchObject({ error: { code: 'TABLE_NOT_FOUND' } })
  }, 30_000)

  it('a missing table: the create-table hint keeps the flags given that create-table reads, quoted for the shell', async () => {
    const tableName = uniqueTableName('nowhere')
    const endpoint = inject('dynamodbEndpoint')
    const args = ['--table-name', tableName, '--endpoint', endpoint, '--sort-key-attribute', 'sk']
    const gc = await cli(
      ['gc', ...args, '--sort-key-value', "bob's session", '--max-stale', '5h', '--segments', '2'],
      localEnv(),
    )
    expect(gc.code).toBe(1)
    const hint = `npx dynamodb-session create-table ${args.join(' ')} --sort-key-value 'bob'\\''s session'`
    expect(oneLine(gc.stderr)).toBe(
      `dynamodb-session: Table "${tableName}" does not exist (Scan): create it with \`${hint}\` or createTable(), or check the table name and region.`,
    )
  }, 30_000)

  it('no region: names --region as well as the variables', async () => {
    const env = cleanEnv({
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_DYNAMO_DB_SESSION_ENDPOINT: inject('dynamodbEndpoint'),
    })
    const result = await cli(['check-table', '--table-name', 'sessions', '--json'], env)
    expect(result.code).toBe(1)
    expect(oneLine(result.stderr)).toBe(
      'dynamodb-session: No AWS region: give --region, or set AWS_REGION or AWS_DYNAMO_DB_SESSION_REGION.',
    )
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'NO_REGION' } })
  }, 30_000)

  it('a bad option, an unknown option, a missing table name, an unknown command (exit status 2)', async () => {
    const spawned = await cli(['gc', '--table-name', 't-x', '--max-stale', '5x'], localEnv())
    expect(spawned.code).toBe(2)
    expect(oneLine(spawned.stderr)).toMatch(/--max-stale on the command line is "5x", not a duration/)
    const cases: [string[], Record<string, string>, string][] = [
      [
        ['gc', '--table-name', 't-x', '--max-stale', '5x'],
        {},
        'dynamodb-session: --max-stale on the command line is "5x", not a duration: whole seconds (3600) or a number with s, m, h, d or w (90s, 5m, 5h, 1d, 2w).',
      ],
      [
        ['gc', '--table-name', 't-x', '--max-stael', '5h'],
        {},
        'dynamodb-session: --max-stael on the command line is not an option; did you mean --max-stale?',
      ],
      [
        ['gc', '--table-name', 't-x'],
        { AWS_DYNAMO_DB_SESSION_SEGMENT: '4' },
        'dynamodb-session: AWS_DYNAMO_DB_SESSION_SEGMENT from the environment is not an option; did you mean AWS_DYNAMO_DB_SESSION_SEGMENTS?',
      ],
      [
        ['gc'],
        {},
        'dynamodb-session: tableName is not set: set it in code, in AWS_DYNAMO_DB_SESSION_TABLE_NAME, or as table_name in the config file.',
      ],
      [
        ['vacuum'],
        {},
        'dynamodb-session: Unknown command "vacuum": use one of create-table, delete-table, check-table, gc.',
      ],
      [['gc', '--segments'], {}, 'dynamodb-session: --segments needs a value, e.g. --segments=VALUE.'],
      [
        ['gc', '--segments', '--json'],
        {},
        'dynamodb-session: --segments needs a value, e.g. --segments=VALUE.',
      ],
      [['gc', '--yes=no'], {}, 'dynamodb-session: --yes takes no value.'],
      [['gc', '-x'], {}, 'dynamodb-session: Unknown option -x; see --help.'],
      [['gc', 'now'], {}, 'dynamodb-session: Unexpected argument "now" after gc; see --help.'],
      [
        ['gc', '--timeout', '5000'],
        {},
        'dynamodb-session: --timeout on the command line is not an option of these commands: only the app reads it (set it in code, the environment or a config file).',
      ],
      [
        ['check-table', '--table-name', 't-x', '--endpoint', 'localhost:8000'],
        {},
        'dynamodb-session: checkTable option "endpoint" must be a URL such as http://127.0.0.1:8000, not "localhost:8000".',
      ],
    ]
    for (const [args, env, line] of cases) {
      const result = await run(args, localEnv(env))
      expect(result.code, args.join(' ')).toBe(2)
      expect(oneLine(result.stderr)).toBe(line)
      if (args.includes('--json')) expect(JSON.parse(result.stdout).error.code).toBe('USAGE')
      else expect(result.stdout).toBe('')
    }
  }, 30_000)

  it('no credentials', async () => {
    const env = cleanEnv({
      AWS_REGION: 'us-east-1',
      AWS_DYNAMO_DB_SESSION_ENDPOINT: inject('dynamodbEndpoint'),
    })
    const result = await cli(['check-table', '--table-name', 'sessions'], env)
    expect(result.code).toBe(1)
    expect(oneLine(result.stderr)).toBe(
      'dynamodb-session: No AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is available.',
    )
  }, 30_000)

  describe('answers from IAM', () => {
    let server: Server
    let endpoint: string
    beforeAll(async () => {
      // DynamoDB Local knows no IAM: this endpoint answers every call as IAM would deny it.
      server = createServer((request, response) => {
        const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1]
        request.resume()
        response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' })
        response.end(
          JSON.stringify({
            __type: 'com.amazon.coral.service#AccessDeniedException',
            message: `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: dynamodb:${operation} on resource: arn:aws:dynamodb:us-east-1:123456789012:table/sessions`,
          }),
        )
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

    it('access denied', async () => {
      const result = await cli(['gc', '--table-name', 'sessions', '--endpoint', endpoint], localEnv())
      expect(result.code).toBe(1)
      expect(oneLine(result.stderr)).toMatch(
        /^dynamodb-session: Access denied to dynamodb:Scan on table "sessions": allow it in the IAM policy of these credentials\. \(User: .* is not authorized to perform: dynamodb:Scan/,
      )
    }, 30_000)
  })

  it('--help prints the usage and exits 0', async () => {
    const result = await cli(['--help'], localEnv())
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toBe(helpText())
    expect(result.stdout).toMatch(/^Usage: dynamodb-session <command> \[options\]/)
    for (const flag of ['--max-age', '--max-stale', '--segments', '--rate', '--json']) {
      expect(result.stdout).toContain(flag)
    }
  }, 30_000)

  it('--version prints the version of package.json and exits 0', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    const result = await cli(['--version'], localEnv())
    expect(result).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' })
  }, 30_000)

  it('no command: the usage on stderr, nothing on stdout, exit status 2', async () => {
    const result = await cli([], localEnv())
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      `dynamodb-session: No command given: use one of create-table, delete-table, check-table, gc.\n\n${helpText()}`,
    )
  }, 30_000)
})

describe('the command line parser and its help, made from one table', () => {
  /** Each row of the help's option list: the flag and whether it takes a value. */
  const helpFlags = [...helpText().matchAll(/^ {2}(?:-\w, )?--([a-z-]+)( [A-Z]+)?/gm)].map((match) => ({
    flag: match[1] as string,
    takesValue: match[2] !== undefined,
  }))

  it('accepts every flag the help lists, with a value exactly when the help shows one', () => {
    expect(helpFlags.length).toBeGreaterThan(20)
    for (const { flag, takesValue } of helpFlags) {
      const line = parseCommandLine(['gc', `--${flag}`, ...(takesValue ? ['v'] : [])])
      if (takesValue) expect(line.args[flag], flag).toBe('v')
      else expect(() => parseCommandLine(['gc', `--${flag}=v`]), flag).toThrow(`--${flag} takes no value.`)
    }
  })

  it('lists the flags the old help left out', () => {
    const flags = helpFlags.map(({ flag }) => flag)
    for (const flag of ['data-attribute', 'max-attempts', 'version', 'config-file'])
      expect(flags).toContain(flag)
  })

  it('refuses every config option the help does not list, so none is accepted unlisted', () => {
    const listed = new Set(helpFlags.map(({ flag }) => flag))
    const unlisted = OPTION_PATHS.map(flagName).filter((flag) => !listed.has(flag))
    expect(unlisted).toEqual(expect.arrayContaining(['timeout', 'consistent-read', 'compress', 'secret-key']))
    for (const flag of unlisted) {
      expect(() => parseCommandLine(['gc', `--${flag}`, 'v']), flag).toThrow(
        `--${flag} on the command line is not an option of these commands: only the app reads it`,
      )
    }
  })

  it('is typed: booleans are booleans, values strings, and the command one of four', () => {
    expect(parseCommandLine(['gc', '--json', '--max-stale=5h', '--yes'])).toEqual({
      command: 'gc',
      args: { 'max-stale': '5h' },
      json: true,
      help: false,
      version: false,
      yes: true,
    })
    expect(parseCommandLine(['-h']).help).toBe(true)
    expect(() => parseCommandLine(['vacuum'])).toThrow(UsageError)
  })
})

describe('gc on a terminal', () => {
  it('shows scanned, deleted and a rate on one line redrawn in place, then the summary', async () => {
    const tableName = uniqueTableName('cli-tty')
    const env = localEnv({ AWS_DYNAMO_DB_SESSION_TABLE_NAME: tableName })
    // In-process, the SDK takes its credentials from process.env itself.
    const saved = { ...process.env }
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    })
    onTestFinished(() => {
      for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    })
    let stdout = ''
    let stderr = ''
    const io = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text), isTTY: true },
      env,
      signal: new AbortController().signal,
    }
    expect(await main(['create-table'], io)).toBe(0)
    const store = new DynamoDBStore({ client, tableName })
    const now = nowInSeconds()
    for (let index = 0; index < 10; index++) {
      await store.create({
        key: `k${index}`,
        data: { a: 1 },
        createdAt: now,
        updatedAt: now,
        expiresAt: now - 1,
      })
    }
    stdout = ''
    expect(await main(['gc', '--max-age', '1d'], io)).toBe(0)
    expect(stderr).toContain(
      `Deleting expired sessions, or created over 1d ago from "${tableName}" with 1 segment(s).`,
    )
    const redraw = '\r\u001b[2K' // back to the start of the line, and clear it
    expect(stderr).toContain(`${redraw}scanned 10 · deleted 10 · `)
    expect(stderr).toMatch(/items\/s · segments 1\/1\n$/)
    expect(stdout).toMatch(/^Deleted 10 of 10 items scanned/)
  }, 30_000)
})
