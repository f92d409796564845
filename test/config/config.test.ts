// Options from code, the command line, the environment and a YAML or JSON file.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { loadConfig, parseDuration } from '../../src/config/config.ts'
import { ConfigError } from '../../src/errors.ts'
import { DynamoDBStore, MemoryStore, sessionMiddleware } from '../../src/index.ts'
import { loadNodeConfig } from '../../src/node/config.ts'

const SECRET = 'config-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** A YAML file as loadNodeConfig hands it to loadConfig: parsed. */
const yaml = (name: string, text: string) => ({ name, content: parseYaml(text) })

function errorOf(load: () => unknown): ConfigError {
  try {
    load()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('takes code over the command line over the environment over the file', () => {
    const file = yaml('sessions.yml', 'table_name: from-file\nregion: eu-west-1\nsegments: 2\nrate: 100\n')
    const env = {
      AWS_DYNAMO_DB_SESSION_TABLE_NAME: 'from-env',
      AWS_DYNAMO_DB_SESSION_REGION: 'us-east-2',
      AWS_DYNAMO_DB_SESSION_SEGMENTS: '4',
    }
    const args = { 'table-name': 'from-args', region: 'ap-south-1' }
    const config = loadConfig({ options: { tableName: 'from-code' }, args, env, file })
    expect(config).toEqual({ tableName: 'from-code', region: 'ap-south-1', segments: 4, rate: 100 })
  })

  it('leaves the defaults to the store and the middleware: nothing set, nothing returned', () => {
    expect(loadConfig({ env: { HOME: '/root', AWS_REGION: 'eu-west-1' } })).toEqual({})
  })

  it('maps SNAKE_CASE variables to options, nested ones too, and parses their values', () => {
    const config = loadConfig({
      env: {
        AWS_DYNAMO_DB_SESSION_TABLE_NAME: 'sessions',
        AWS_DYNAMO_DB_SESSION_MAX_STALE: '5h',
        AWS_DYNAMO_DB_SESSION_MAX_AGE: '2w',
        AWS_DYNAMO_DB_SESSION_TOUCH_AFTER: '90s',
        AWS_DYNAMO_DB_SESSION_CONSISTENT_READ: 'false',
        AWS_DYNAMO_DB_SESSION_TIMEOUT: '2500',
        AWS_DYNAMO_DB_SESSION_KEY_PREFIX: 'app#',
        AWS_DYNAMO_DB_SESSION_SORT_KEY_ATTRIBUTE: 'sk',
        AWS_DYNAMO_DB_SESSION_SORT_KEY_VALUE: 'session',
        AWS_DYNAMO_DB_SESSION_COOKIE_NAME: '__Host-sid',
        AWS_DYNAMO_DB_SESSION_COOKIE_HTTP_ONLY: 'yes',
        AWS_DYNAMO_DB_SESSION_COOKIE_SAME_SITE: 'Strict',
        AWS_DYNAMO_DB_SESSION_COOKIE_MAX_AGE: '30d',
        AWS_DYNAMO_DB_SESSION_READ_CAPACITY: '5',
        AWS_DYNAMO_DB_SESSION_RATE: '12.5',
        AWS_DYNAMO_DB_SESSION_USER_INDEX: 'by-user',
        AWS_DYNAMO_DB_SESSION_ENCRYPT: 'on',
      },
    })
    expect(config).toEqual({
      tableName: 'sessions',
      maxStale: 5 * 3600,
      maxAge: 14 * 86_400,
      touchAfter: 90,
      consistentRead: false,
      timeout: 2500,
      keyPrefix: 'app#',
      sortKey: { attribute: 'sk', value: 'session' },
      cookie: { name: '__Host-sid', httpOnly: true, sameSite: 'strict', maxAge: 30 * 86_400 },
      readCapacity: 5,
      rate: 12.5,
      userIndex: 'by-user',
      encrypt: true,
    })
  })

  it('merges nested options leaf by leaf across sources', () => {
    const config = loadConfig({
      options: { cookie: { name: 'app' } },
      env: { AWS_DYNAMO_DB_SESSION_COOKIE_SECURE: 'false' },
      file: yaml('c.yml', 'cookie:\n  name: file\n  path: /app\n  secure: true\n'),
    })
    expect(config.cookie).toEqual({ name: 'app', path: '/app', secure: false })
  })

  it('reads a YAML file with snake_case or camelCase keys, and a JSON file', () => {
    const text = `
# sessions.yml
table_name: sessions
maxStale: 1d
cookie:
  same_site: none
  secure: true
sort_key: { attribute: sk, value: session }
secret_key:
  - ${SECRET}
  - old-${SECRET}
`
    expect(loadConfig({ file: yaml('sessions.yml', text) })).toEqual({
      tableName: 'sessions',
      maxStale: 86_400,
      cookie: { sameSite: 'none', secure: true },
      sortKey: { attribute: 'sk', value: 'session' },
      secretKey: [SECRET, `old-${SECRET}`],
    })
    const json = JSON.stringify({ tableName: 'sessions', max_age: 3600, segments: 8 })
    expect(loadConfig({ file: { name: 'sessions.json', text: json } })).toEqual({
      tableName: 'sessions',
      maxAge: 3600,
      segments: 8,
    })
    expect(loadConfig({ file: yaml('empty.yml', '# nothing yet\n') })).toEqual({})
  })

  it('takes several secrets from one variable as a JSON array', () => {
    const env = { AWS_DYNAMO_DB_SESSION_SECRET_KEY: JSON.stringify([SECRET, `old-${SECRET}`]) }
    expect(loadConfig({ env }).secretKey).toEqual([SECRET, `old-${SECRET}`])
    expect(loadConfig({ env: { AWS_DYNAMO_DB_SESSION_SECRET_KEY: SECRET } }).secretKey).toBe(SECRET)
  })

  it('treats an empty variable as unset, as a shell does', () => {
    expect(loadConfig({ env: { AWS_DYNAMO_DB_SESSION_TABLE_NAME: '' } })).toEqual({})
  })

  it('names the option, its source and what it should be when a value is bad', () => {
    const fromEnv = errorOf(() => loadConfig({ env: { AWS_DYNAMO_DB_SESSION_MAX_STALE: '5x' } }))
    expect(fromEnv).toMatchObject({ code: 'INVALID_CONFIG', option: 'maxStale', source: 'environment' })
    expect(fromEnv.message).toBe(
      'AWS_DYNAMO_DB_SESSION_MAX_STALE from the environment is "5x", not a duration: whole seconds (3600) or a number with s, m, h, d or w (90s, 5m, 5h, 1d, 2w).',
    )
    const fromFile = errorOf(() => loadConfig({ file: yaml('app.yml', 'cookie:\n  secure: maybe\n') }))
    expect(fromFile).toMatchObject({ option: 'cookie.secure', source: 'config file' })
    expect(fromFile.message).toBe(
      `"cookie.secure" in config file app.yml is "maybe", not true, false or 'auto'.`,
    )
    const fromArgs = errorOf(() => loadConfig({ args: { segments: '0' } }))
    expect(fromArgs.message).toBe('--segments on the command line is "0", not a whole number of 1 or more.')
    expect(
      errorOf(() => loadConfig({ env: { AWS_DYNAMO_DB_SESSION_COOKIE_SAME_SITE: 'sometimes' } })).message,
    ).toMatch(/not one of lax, strict, none, auto/)
  })

  it("takes 'auto' for cookie.secure and cookie.sameSite from the environment and a file, as code can", () => {
    const env = {
      AWS_DYNAMO_DB_SESSION_COOKIE_SECURE: 'auto',
      AWS_DYNAMO_DB_SESSION_COOKIE_SAME_SITE: 'Auto',
      AWS_DYNAMO_DB_SESSION_TRUST_PROXY: 'true',
    }
    expect(loadConfig({ env })).toEqual({ cookie: { secure: 'auto', sameSite: 'auto' }, trustProxy: true })
    const file = yaml('app.yml', 'cookie:\n  secure: auto\n  sameSite: auto\n')
    expect(loadConfig({ file })).toEqual({ cookie: { secure: 'auto', sameSite: 'auto' } })
    expect(loadConfig({ env: { AWS_DYNAMO_DB_SESSION_COOKIE_SECURE: 'off' } })).toEqual({
      cookie: { secure: false },
    })
  })

  it('refuses a secret on the command line, where ps shows it to everyone', () => {
    const error = errorOf(() => loadConfig({ args: { 'secret-key': SECRET } }))
    expect(error.message).toMatch(
      /^--secret-key on the command line: a secret on the command line is visible/,
    )
    expect(error.message).not.toContain(SECRET)
  })

  it('never repeats a secret in an error', () => {
    const error = errorOf(() => loadConfig({ file: yaml('s.yml', `secret_key: { nested: "${SECRET}" }\n`) }))
    expect(error.option).toBe('secretKey')
    expect(error.message).not.toContain(SECRET)
  })

  it('refuses an unknown option, suggesting the one probably meant', () => {
    const typo = errorOf(() => loadConfig({ env: { AWS_DYNAMO_DB_SESSION_MAX_STAEL: '5h' } }))
    expect(typo).toMatchObject({ option: 'AWS_DYNAMO_DB_SESSION_MAX_STAEL', source: 'environment' })
    expect(typo.message).toBe(
      'AWS_DYNAMO_DB_SESSION_MAX_STAEL from the environment is not an option; did you mean AWS_DYNAMO_DB_SESSION_MAX_STALE?',
    )
    expect(errorOf(() => loadConfig({ file: yaml('a.yml', 'tabel_name: x\n') })).message).toBe(
      '"tabel_name" in config file a.yml is not an option; did you mean table_name?',
    )
    expect(errorOf(() => loadConfig({ args: { 'max-stael': '1h' } })).message).toBe(
      '--max-stael on the command line is not an option; did you mean --max-stale?',
    )
    expect(errorOf(() => loadConfig({ env: { AWS_DYNAMO_DB_SESSION_WHATEVER: '1' } })).message).toBe(
      'AWS_DYNAMO_DB_SESSION_WHATEVER from the environment is not an option.',
    )
  })

  it('takes the client and the error handler only from code', () => {
    expect(errorOf(() => loadConfig({ env: { AWS_DYNAMO_DB_SESSION_CLIENT: 'x' } })).message).toBe(
      'AWS_DYNAMO_DB_SESSION_CLIENT from the environment: "client" can only be given in code.',
    )
    expect(errorOf(() => loadConfig({ file: yaml('a.yml', 'on_error: log\n') })).message).toBe(
      '"on_error" in config file a.yml can only be given in code.',
    )
    const onError = () => new Response('down', { status: 503 })
    expect(loadConfig({ options: { onError } }).onError).toBe(onError)
  })

  it('refuses a file that cannot be parsed or is not a mapping, naming it', () => {
    expect(
      errorOf(() => loadConfig({ file: { name: 'bad.json', text: '{ "tableName": ' } })).message,
    ).toMatch(/^Config file bad.json cannot be parsed: /)
    expect(errorOf(() => loadConfig({ file: yaml('list.yml', '- a\n- b\n') })).message).toBe(
      'Config file list.yml must hold a mapping of options.',
    )
  })

  it('parses JSON text itself, and leaves YAML to loadNodeConfig so a Worker bundles no YAML parser', () => {
    expect(
      errorOf(() => loadConfig({ file: { name: 'sessions.yml', text: 'table_name: x\n' } })).message,
    ).toMatch(
      /^Config file sessions.yml is not JSON, and loadConfig parses only JSON: on Node use loadNodeConfig\(\)/,
    )
  })

  it('says when a file is named but was not handed in (no file system here)', () => {
    const error = errorOf(() => loadConfig({ env: { AWS_DYNAMO_DB_SESSION_CONFIG_FILE: 'sessions.yml' } }))
    expect(error.message).toMatch(
      /^AWS_DYNAMO_DB_SESSION_CONFIG_FILE names "sessions.yml", but loadConfig reads no files/,
    )
  })

  it('requires what the caller requires, saying where it could be set', () => {
    const error = errorOf(() => loadConfig({ env: {}, require: ['tableName'] }))
    expect(error.message).toBe(
      'tableName is not set: set it in code, in AWS_DYNAMO_DB_SESSION_TABLE_NAME, or as table_name in the config file.',
    )
    const config = loadConfig({ env: { AWS_DYNAMO_DB_SESSION_TABLE_NAME: 't' }, require: ['tableName'] })
    const tableName: string = config.tableName // typed as set
    expect(tableName).toBe('t')
  })

  it('refuses half a sort key, saying where the other half came from', () => {
    const error = errorOf(() => loadConfig({ env: { AWS_DYNAMO_DB_SESSION_SORT_KEY_ATTRIBUTE: 'sk' } }))
    expect(error.message).toBe(
      'sortKey needs both an attribute and a value, but only AWS_DYNAMO_DB_SESSION_SORT_KEY_ATTRIBUTE from the environment is set: set AWS_DYNAMO_DB_SESSION_SORT_KEY_VALUE or sortKey.value too.',
    )
  })

  it("takes a Worker's env bindings, whose values may be numbers or booleans", () => {
    const bindings = {
      AWS_DYNAMO_DB_SESSION_TABLE_NAME: 'sessions',
      AWS_DYNAMO_DB_SESSION_MAX_STALE: 3600,
      AWS_DYNAMO_DB_SESSION_CONSISTENT_READ: false,
      SESSIONS_KV: { get() {} }, // other bindings are left alone
    }
    expect(loadConfig({ env: bindings })).toEqual({
      tableName: 'sessions',
      maxStale: 3600,
      consistentRead: false,
    })
  })

  it('configures the store and the middleware from one object', async () => {
    const config = loadConfig({
      env: {
        AWS_DYNAMO_DB_SESSION_TABLE_NAME: 'sessions',
        AWS_DYNAMO_DB_SESSION_SECRET_KEY: SECRET,
        AWS_DYNAMO_DB_SESSION_MAX_STALE: '1h',
        AWS_DYNAMO_DB_SESSION_COOKIE_SECURE: 'false',
      },
      require: ['tableName', 'secretKey'],
    })
    expect(() => new DynamoDBStore({ ...config, region: 'us-east-1' })).not.toThrow()
    const withSession = sessionMiddleware({ ...config, store: new MemoryStore() })
    const response = await withSession(new Request('http://localhost/'), async () => new Response('ok'))
    expect(response.status).toBe(200)
  })
})

describe('parseDuration', () => {
  it('reads whole seconds and s, m, h, d, w; refuses anything else', () => {
    expect([3600, '3600', '90s', '5m', '5h', '1d', '2w'].map(parseDuration)).toEqual([
      3600, 3600, 90, 300, 18_000, 86_400, 1_209_600,
    ])
    for (const bad of ['', '5x', '1.5h', '-1', '0', '1h30m', 'h', 1.5, 0, null]) {
      expect(() => parseDuration(bad), String(bad)).toThrow(/not a duration|duration/)
    }
  })
})

describe('loadNodeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynamodb-session-config-'))

  it('reads process.env and the file that AWS_DYNAMO_DB_SESSION_CONFIG_FILE names', () => {
    const file = join(dir, 'sessions.yaml')
    writeFileSync(file, 'table_name: from-file\nmax_stale: 2h\n')
    const config = loadNodeConfig({
      env: { AWS_DYNAMO_DB_SESSION_CONFIG_FILE: file, AWS_DYNAMO_DB_SESSION_MAX_STALE: '3h' },
    })
    expect(config).toEqual({ tableName: 'from-file', maxStale: 3 * 3600 })
  })

  it('reads the file named by the configFile option over the one the environment names', () => {
    const file = join(dir, 'code.json')
    writeFileSync(file, JSON.stringify({ table_name: 'from-code-file' }))
    const config = loadNodeConfig({
      options: { configFile: file },
      env: { AWS_DYNAMO_DB_SESSION_CONFIG_FILE: join(dir, 'missing.yml') },
    })
    expect(config.tableName).toBe('from-code-file')
  })

  it('says which YAML file could not be parsed', () => {
    const file = join(dir, 'broken.yml')
    writeFileSync(file, 'table_name: [unclosed\n')
    const error = errorOf(() => loadNodeConfig({ env: { AWS_DYNAMO_DB_SESSION_CONFIG_FILE: file } }))
    expect(error.message).toMatch(new RegExp(`^Config file ${file} cannot be parsed: `))
  })

  it('says which file could not be read and who named it', () => {
    const missing = join(dir, 'missing.yml')
    const error = errorOf(() => loadNodeConfig({ env: { AWS_DYNAMO_DB_SESSION_CONFIG_FILE: missing } }))
    expect(error.message).toBe(
      `Config file ${missing} (named by AWS_DYNAMO_DB_SESSION_CONFIG_FILE) cannot be read: ENOENT.`,
    )
  })
})
