// The command line of `npx dynamodb-session`: one table of flags, from which node:util's parseArgs
// learns what to accept and --help what to list, so the two cannot drift. Each flag is an option
// of the config (config/config.ts), checked at compile time: every option is either a flag here
// or listed as the app's, so a new option cannot be forgotten.
import { readFileSync } from 'node:fs'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { flagName, type OptionPath } from '../config/config.ts'
import { closest } from '../option-checks.ts'

export const COMMANDS = ['create-table', 'delete-table', 'check-table', 'gc'] as const
export type Command = (typeof COMMANDS)[number]

interface Flag {
  /** The value's placeholder in the help: NAME, N, DURATION. */
  value: string
  help: string
  /** The commands that read it; every command when absent. */
  for?: readonly Command[]
}

const GC: readonly Command[] = ['gc']

/** Every config option a command reads, as a flag. */
const FLAGS = {
  tableName: { value: 'NAME', help: 'the sessions table (required)' },
  region: { value: 'REGION', help: "AWS region (default: the SDK's, e.g. AWS_REGION)" },
  endpoint: { value: 'URL', help: 'another endpoint, e.g. http://127.0.0.1:8000 for DynamoDB Local' },
  keyAttribute: { value: 'NAME', help: 'partition key attribute (default: session_id)' },
  keyPrefix: { value: 'PREFIX', help: 'delete only keys with this prefix (default: none)', for: GC },
  'sortKey.attribute': { value: 'NAME', help: 'sort key attribute, for single-table designs' },
  'sortKey.value': { value: 'VALUE', help: 'the sort key value of every session item' },
  dataAttribute: { value: 'NAME', help: 'the attribute holding session data (default: data)', for: GC },
  expiresAttribute: { value: 'NAME', help: 'the TTL attribute (default: expire_at)' },
  userAttribute: {
    value: 'NAME',
    help: 'the attribute of the user a session is bound to (default: user_id)',
  },
  userIndex: { value: 'NAME', help: 'the index on it (default: user_id-index)' },
  readCapacity: { value: 'N', help: 'provisioned read capacity units', for: ['create-table'] },
  writeCapacity: { value: 'N', help: 'provisioned write capacity units', for: ['create-table'] },
  maxWaitTime: {
    value: 'DURATION',
    help: 'how long to wait for the table (default: 5m)',
    for: ['create-table', 'delete-table'],
  },
  maxAge: { value: 'DURATION', help: 'also delete sessions created longer ago than this', for: GC },
  maxStale: { value: 'DURATION', help: 'also delete sessions idle longer than this', for: GC },
  segments: { value: 'N', help: 'parallel scan segments (default: 1)', for: GC },
  rate: { value: 'N', help: 'at most N items read (and so deleted) per second', for: GC },
  maxAttempts: { value: 'N', help: 'sends of one throttled request, in all (default: 10)', for: GC },
} as const satisfies Partial<Record<OptionPath, Flag>>

/**
 * Options that only the app reads (the middleware, and the store on the request path): no
 * command has a use for them, so they are no flags, though the environment and a config file
 * shared with the app may set them.
 */
const APP_ONLY = [
  'secretKey',
  'touchAfter',
  'trustProxy',
  'encrypt',
  'consistentRead',
  'timeout',
  'compress',
  'cookie.name',
  'cookie.path',
  'cookie.domain',
  'cookie.secure',
  'cookie.httpOnly',
  'cookie.sameSite',
  'cookie.partitioned',
  'cookie.maxAge',
  'cookie.priority',
] as const satisfies readonly OptionPath[]

// A new option fails to compile here until it is given a flag above or listed as the app's.
const everyOptionIsAFlagOrTheApps: [
  Exclude<OptionPath, keyof typeof FLAGS | (typeof APP_ONLY)[number]>,
] extends [never]
  ? true
  : never = true
void everyOptionIsAFlagOrTheApps

/** Flags of the command line itself, not options of the config. */
const OWN_FLAGS = [
  { flag: 'config-file', value: 'PATH', help: 'a YAML or JSON file of options' },
  { flag: 'json', help: 'print the result as one JSON object, for scripts' },
  { flag: 'yes', help: 'confirm deleting every session', for: ['delete-table'] as readonly Command[] },
  { flag: 'help', short: 'h', help: 'this help' },
  { flag: 'version', help: 'the version of dynamodb-session' },
] as const

/** What parseArgs accepts: exactly the flags the help lists. */
const PARSE_OPTIONS: ParseArgsConfig['options'] = Object.fromEntries([
  ...Object.keys(FLAGS).map((path) => [flagName(path), { type: 'string' }] as const),
  ...OWN_FLAGS.map((own) => [
    own.flag,
    { type: 'value' in own ? 'string' : 'boolean', ...('short' in own ? { short: own.short } : {}) },
  ]),
])

/** Every row of the help's option list, in the order shown. */
function helpRows(): [string, string][] {
  const scope = (commands: readonly Command[] | undefined) => (commands ? `${commands.join(', ')}: ` : '')
  return [
    ...Object.entries(FLAGS).map(([path, flag]): [string, string] => [
      `--${flagName(path)} ${flag.value}`,
      scope('for' in flag ? flag.for : undefined) + flag.help,
    ]),
    ...OWN_FLAGS.map((own): [string, string] => [
      `${'short' in own ? `-${own.short}, ` : ''}--${own.flag}${'value' in own ? ` ${own.value}` : ''}`,
      scope('for' in own ? own.for : undefined) + own.help,
    ]),
  ]
}

/** The usage text of --help, its option list made from the same table parseArgs reads. */
export function helpText(): string {
  const rows = helpRows()
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2
  return `Usage: dynamodb-session <command> [options]

Commands:
  create-table   Create the sessions table (on-demand billing unless --read-capacity and
                 --write-capacity are given) with its user index, turn TTL on for the expiry
                 attribute, and wait until all is ready. An existing table with the right keys
                 is fine: it gets the index and TTL if it lacks them.
  delete-table   Delete the table and every session in it (needs --yes); waits until gone.
  check-table    Report the keys, billing, TTL and user index, and what is wrong; exits 1 if
                 anything is.
  gc             Delete expired sessions, and with --max-age or --max-stale older or idler ones.

Options (each can also be set as AWS_DYNAMO_DB_SESSION_<NAME>, e.g. AWS_DYNAMO_DB_SESSION_TABLE_NAME,
or in the YAML or JSON file named by --config-file or AWS_DYNAMO_DB_SESSION_CONFIG_FILE):
${rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`).join('\n')}

Durations are whole seconds or a number with s, m, h, d or w: 90s, 5m, 5h, 1d, 2w.
Precedence: command line > environment > config file > defaults. Credentials come from the
AWS SDK's usual chain (AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an IAM role).

Exit status: 0 done, 1 the operation failed or check-table found a problem, 2 a bad command or option.
`
}

/** The package's version, from its package.json (two folders up from src/node/ and dist/node/ alike). */
export function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  return String(manifest.version)
}

/** A mistake on the command line itself: exit status 2, like a bad option. */
export class UsageError extends Error {
  /** True when the usage should follow the one-line message (no command given). */
  readonly showUsage: boolean

  constructor(message: string, showUsage = false) {
    super(message)
    this.showUsage = showUsage
  }
}

export interface CommandLine {
  command: Command | undefined
  /** The config options given, by flag (`'max-stale': '5h'`), for loadConfig; --config-file too. */
  args: Record<string, string>
  json: boolean
  help: boolean
  version: boolean
  yes: boolean
}

/**
 * Parses a command line with parseArgs (strict: an unknown flag or a missing value is a
 * UsageError that says what to do).
 *
 * @example
 * parseCommandLine(['gc', '--max-stale', '5h']) // { command: 'gc', args: { 'max-stale': '5h' }, ... }
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: true, allowPositionals: true })
  } catch (error) {
    throw usageErrorOf(error)
  }
  const { values, positionals } = parsed
  const flag = (name: string) => values[name] === true
  const args: Record<string, string> = {}
  for (const [name, value] of Object.entries(values)) if (typeof value === 'string') args[name] = value
  const [command, extra] = positionals
  const line: CommandLine = {
    command: undefined,
    args,
    json: flag('json'),
    help: flag('help'),
    version: flag('version'),
    yes: flag('yes'),
  }
  if (command !== undefined && !(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`Unknown command "${command}": use one of ${COMMANDS.join(', ')}.`)
  }
  if (extra !== undefined)
    throw new UsageError(`Unexpected argument "${extra}" after ${command}; see --help.`)
  line.command = command as Command | undefined
  return line
}

/** parseArgs' error, reworded to say what to do. */
function usageErrorOf(error: unknown): unknown {
  const code = (error as { code?: string }).code
  const message = error instanceof Error ? error.message : String(error)
  // parseArgs quotes the option first: '--segments <value>', '-h, --help', '--max-stael'.
  const written = /'(?:-\w, )?(-[^' ]+)/.exec(message)?.[1] ?? ''
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && !written.startsWith('--')) {
    return new UsageError(`Unknown option ${written}; see --help.`)
  }
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = written.replace(/^--?/, '').split('=')[0] ?? ''
    if ((APP_ONLY as readonly string[]).some((path) => flagName(path) === name)) {
      return new UsageError(
        `--${name} on the command line is not an option of these commands: only the app reads it (set it in code, the environment or a config file).`,
      )
    }
    const suggestion = closest(
      `--${name}`,
      Object.keys(PARSE_OPTIONS ?? {}).map((known) => `--${known}`),
    )
    return new UsageError(
      `--${name} on the command line is not an option${suggestion ? `; did you mean ${suggestion}?` : '; see --help.'}`,
    )
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = written.replace(/^--?/, '')
    if (/does not take an argument/.test(message)) return new UsageError(`--${name} takes no value.`)
    return new UsageError(`--${name} needs a value, e.g. --${name}=VALUE.`)
  }
  return new UsageError(`${message.split('\n')[0]} See --help.`)
}

/**
 * The command that creates the table, with the flags of this command line that create-table
 * reads, so the hint can be pasted as it is.
 *
 * @example
 * createTableCommand({ 'table-name': 't', 'max-stale': '5h' }) // 'npx dynamodb-session create-table --table-name t'
 */
export function createTableCommand(args: Record<string, string>): string {
  const kept = new Set([
    'config-file',
    ...Object.entries(FLAGS)
      .filter(([, flag]) => !('for' in flag) || (flag.for as readonly Command[]).includes('create-table'))
      .map(([path]) => flagName(path)),
  ])
  const flags = Object.entries(args)
    .filter(([name]) => kept.has(name))
    .map(([name, value]) => `--${name} ${shellQuote(value)}`)
  return ['npx dynamodb-session create-table', ...flags].join(' ')
}

/** A value as a POSIX shell reads it back: bare when safe, else in single quotes. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}
