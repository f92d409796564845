// The commands of `npx dynamodb-session`; src/node/cli.ts runs them as a program.
import type { SessionConfig } from '../config/config.ts'
import { collectGarbage, type GarbageCollectionResult } from '../dynamodb/gc.ts'
import { checkTable, createTable, deleteTable, type TableReport } from '../dynamodb/table.ts'
import { ConfigError, TableError } from '../errors.ts'
import { loadNodeConfig } from './config.ts'
import { formatDuration, formatNumber, progressPrinter } from './progress.ts'

const HELP = `Usage: dynamodb-session <command> [options]

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
  --table-name NAME          the sessions table (required)
  --region REGION            AWS region (default: the SDK's, e.g. AWS_REGION)
  --endpoint URL             another endpoint, e.g. http://127.0.0.1:8000 for DynamoDB Local
  --key-attribute NAME       partition key attribute (default: session_id)
  --key-prefix PREFIX        gc deletes only keys with this prefix (default: none)
  --sort-key-attribute NAME  sort key attribute, for single-table designs
  --sort-key-value VALUE     the sort key value of every session item
  --expires-attribute NAME   the TTL attribute (default: expire_at)
  --user-attribute NAME      the attribute of the user a session is bound to (default: user_id)
  --user-index NAME          the index on it (default: user_id-index)
  --read-capacity N          create-table: provisioned read capacity units
  --write-capacity N         create-table: provisioned write capacity units
  --max-wait-time DURATION   create-table, delete-table: how long to wait (default: 5m)
  --max-age DURATION         gc: also delete sessions created longer ago than this
  --max-stale DURATION       gc: also delete sessions idle longer than this
  --segments N               gc: parallel scan segments (default: 1)
  --rate N                   gc: at most N items read (and so deleted) per second
  --config-file PATH         a YAML or JSON file of options
  --json                     print the result as one JSON object, for scripts
  --yes                      delete-table: confirm deleting every session
  -h, --help                 this help

Durations are whole seconds or a number with s, m, h, d or w: 90s, 5m, 5h, 1d, 2w.
Precedence: command line > environment > config file > defaults. Credentials come from the
AWS SDK's usual chain (AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an IAM role).

Exit status: 0 done, 1 the operation failed or check-table found a problem, 2 a bad command or option.
`

const COMMANDS = ['create-table', 'delete-table', 'check-table', 'gc'] as const
type Command = (typeof COMMANDS)[number]

/** A mistake on the command line itself: exit status 2, like a bad option. */
class UsageError extends Error {}

interface CommandLine {
  command: Command | undefined
  args: Record<string, string>
  json: boolean
  help: boolean
  yes: boolean
}

function parseCommandLine(argv: readonly string[]): CommandLine {
  const line: CommandLine = { command: undefined, args: {}, json: false, help: false, yes: false }
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string
    if (arg === '-h' || arg === '--help') line.help = true
    else if (arg === '--json') line.json = true
    else if (arg === '--yes') line.yes = true
    else if (arg.startsWith('--')) {
      const equals = arg.indexOf('=')
      const flag = arg.slice(2, equals === -1 ? undefined : equals)
      const value = equals === -1 ? argv[++index] : arg.slice(equals + 1)
      if (value === undefined || (equals === -1 && value.startsWith('--'))) {
        throw new UsageError(`--${flag} needs a value, e.g. --${flag}=VALUE.`)
      }
      line.args[flag] = value
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`Unknown option ${arg}; see --help.`)
    } else if (line.command === undefined) {
      if (!(COMMANDS as readonly string[]).includes(arg)) {
        throw new UsageError(`Unknown command "${arg}": use one of ${COMMANDS.join(', ')}.`)
      }
      line.command = arg as Command
    } else {
      throw new UsageError(`Unexpected argument "${arg}" after ${line.command}; see --help.`)
    }
  }
  return line
}

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean }
  stderr: { write(text: string): unknown; isTTY?: boolean }
  env: Record<string, string | undefined>
  /** Aborted on Ctrl-C: gc stops after the requests in flight and reports what it did. */
  signal: AbortSignal
}

/**
 * Runs one command line and resolves to the exit status; every failure is one line on stderr
 * (and an `error` object on stdout with --json).
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let json = argv.includes('--json')
  try {
    const line = parseCommandLine(argv)
    json = line.json
    if (line.help || line.command === undefined) {
      io.stdout.write(HELP)
      return line.help ? 0 : 2
    }
    const config = loadNodeConfig({ args: line.args, env: io.env, require: ['tableName'] })
    switch (line.command) {
      case 'create-table':
        return created(io, json, await createTable(config))
      case 'delete-table': {
        if (!line.yes) {
          throw new UsageError(
            `delete-table deletes table "${config.tableName}" and every session in it: add --yes to confirm.`,
          )
        }
        const { deleted } = await deleteTable(config)
        if (json) print(io, { command: 'delete-table', tableName: config.tableName, deleted })
        else
          io.stdout.write(
            deleted
              ? `Deleted table "${config.tableName}".\n`
              : `Table "${config.tableName}" does not exist; nothing to delete.\n`,
          )
        return 0
      }
      case 'check-table':
        return checked(io, json, await checkTable(config))
      case 'gc':
        return collected(io, json, config, await gc(io, json, config))
    }
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')
    const code =
      error instanceof TableError || error instanceof ConfigError
        ? error.code
        : error instanceof UsageError
          ? 'USAGE'
          : 'FAILED'
    io.stderr.write(`dynamodb-session: ${message}\n`)
    if (json) print(io, { error: { code, message } })
    return error instanceof ConfigError || error instanceof UsageError ? 2 : 1
  }
}

function created(io: Io, json: boolean, report: TableReport & { created: boolean }): number {
  if (json) {
    print(io, { command: 'create-table', ...report })
    return 0
  }
  const what = report.created
    ? `Created table "${report.tableName}":`
    : `Table "${report.tableName}" already existed with the right keys:`
  io.stdout.write(
    `${what} ${describeKeys(report)}, ${describeBilling(report)}, TTL ${report.ttl?.status} on ${report.ttl?.attribute}.\n`,
  )
  return 0
}

function checked(io: Io, json: boolean, report: TableReport): number {
  const ok = report.problems.length === 0
  if (json) {
    print(io, { command: 'check-table', ok, ...report })
    if (!report.exists) io.stderr.write(`dynamodb-session: ${report.problems[0]}\n`)
    return ok ? 0 : 1
  }
  if (!report.exists) {
    io.stderr.write(`dynamodb-session: ${report.problems[0]}\n`)
    return 1
  }
  const rows = [
    `Table "${report.tableName}": ${report.status}`,
    `  keys     ${describeKeys(report)}`,
    `  billing  ${describeBilling(report)}`,
    `  TTL      ${report.ttl?.status}${report.ttl?.attribute ? ` on ${report.ttl.attribute}` : ''}`,
    `  index    ${report.userIndex ? `${report.userIndex.name} on ${report.userIndex.attribute} (${report.userIndex.status})` : 'none'}`,
    `  items    about ${formatNumber(report.itemCount ?? 0)} (DynamoDB updates this about every six hours)`,
    ...report.warnings.map((warning) => `Warning: ${warning}`),
    ...(ok
      ? ['OK: the table suits these options.']
      : report.problems.map((problem) => `Problem: ${problem}`)),
  ]
  io.stdout.write(`${rows.join('\n')}\n`)
  return ok ? 0 : 1
}

async function gc(
  io: Io,
  json: boolean,
  config: SessionConfig & { tableName: string },
): Promise<GarbageCollectionResult> {
  const interactive = !json && io.stderr.isTTY === true
  const printer = interactive ? progressPrinter(io.stderr) : undefined
  if (interactive) {
    const criteria = [
      'expired sessions',
      config.maxAge === undefined ? undefined : `created over ${formatDuration(config.maxAge)} ago`,
      config.maxStale === undefined ? undefined : `idle over ${formatDuration(config.maxStale)}`,
    ].filter(Boolean)
    io.stderr.write(
      `Deleting ${criteria.join(', or ')} from "${config.tableName}" with ${config.segments ?? 1} segment(s). Ctrl-C stops.\n`,
    )
  }
  try {
    return await collectGarbage({
      ...config,
      signal: io.signal,
      ...(printer ? { onProgress: printer.update } : {}),
    })
  } finally {
    printer?.done()
  }
}

function collected(io: Io, json: boolean, config: SessionConfig, result: GarbageCollectionResult): number {
  const seconds = result.elapsedMs / 1000
  const itemsPerSecond = Math.round(result.scanned / Math.max(seconds, 0.001))
  if (json) {
    print(io, { command: 'gc', tableName: config.tableName, ...result, itemsPerSecond })
  } else {
    io.stdout.write(
      `${result.aborted ? 'Stopped early: deleted' : 'Deleted'} ${formatNumber(result.deleted)} of ${formatNumber(result.scanned)} items scanned from "${config.tableName}" in ${seconds.toFixed(1)} s (${formatNumber(itemsPerSecond)} items/s); ${formatNumber(result.skipped)} skipped (active again, or already gone); ${formatNumber(result.retried)} requests retried.\n`,
    )
  }
  return result.aborted ? 130 : 0
}

function describeKeys(report: TableReport): string {
  const key = (label: string, part: { name: string; type: string } | undefined) =>
    part ? `${label} ${part.name} (${part.type})` : undefined
  return [key('partition key', report.partitionKey), key('sort key', report.sortKey)]
    .filter(Boolean)
    .join(', ')
}

function describeBilling(report: TableReport): string {
  return report.billingMode === 'PROVISIONED'
    ? `provisioned capacity (read ${report.readCapacity}, write ${report.writeCapacity})`
    : 'on-demand billing'
}

function print(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`)
}
