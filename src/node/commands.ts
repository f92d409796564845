// The commands of `npx dynamodb-session`; src/node/cli.ts runs them as a program.
import type { SessionConfig } from '../config/config.ts'
import { collectGarbage, type GarbageCollectionResult } from '../dynamodb/gc.ts'
import { checkTable, createTable, deleteTable, type TableReport } from '../dynamodb/table.ts'
import { ConfigError, TableError } from '../errors.ts'
import { loadNodeConfig } from './config.ts'
import { createTableCommand, helpText, parseCommandLine, UsageError, version } from './flags.ts'
import { formatDuration, formatNumber, progressPrinter } from './progress.ts'

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
  let args: Record<string, string> = {}
  try {
    const line = parseCommandLine(argv)
    json = line.json
    args = line.args
    if (line.help) {
      io.stdout.write(helpText())
      return 0
    }
    if (line.version) {
      io.stdout.write(`${version()}\n`)
      return 0
    }
    if (line.command === undefined) {
      throw new UsageError('No command given: use one of create-table, delete-table, check-table, gc.', true)
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
        return checked(io, json, await checkTable(config), args)
      case 'gc':
        return collected(io, json, config, await gc(io, json, config))
    }
  } catch (error) {
    const message = forTheCommandLine(error, args)
    const code =
      error instanceof TableError || error instanceof ConfigError
        ? error.code
        : error instanceof UsageError
          ? 'USAGE'
          : 'FAILED'
    io.stderr.write(`dynamodb-session: ${message}\n`)
    if (error instanceof UsageError && error.showUsage) io.stderr.write(`\n${helpText()}`)
    if (json) print(io, { error: { code, message } })
    return error instanceof ConfigError || error instanceof UsageError ? 2 : 1
  }
}

/**
 * An error's message as one line, its advice put in command-line terms: the region as --region,
 * and the create-table hint with the flags of this command line.
 */
function forTheCommandLine(error: unknown, args: Record<string, string>): string {
  if (error instanceof TableError && error.code === 'NO_REGION') {
    return 'No AWS region: give --region, or set AWS_REGION or AWS_DYNAMO_DB_SESSION_REGION.'
  }
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ')
  return withCreateTableHint(message, args)
}

/** The library's hint names `npx dynamodb-session create-table` bare; this adds the flags given. */
function withCreateTableHint(message: string, args: Record<string, string>): string {
  return message.replace('`npx dynamodb-session create-table`', `\`${createTableCommand(args)}\``)
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

function checked(io: Io, json: boolean, report: TableReport, args: Record<string, string>): number {
  const ok = report.problems.length === 0
  const missing = report.exists ? undefined : withCreateTableHint(report.problems[0] ?? '', args)
  if (json) {
    print(io, { command: 'check-table', ok, ...report })
    if (missing) io.stderr.write(`dynamodb-session: ${missing}\n`)
    return ok ? 0 : 1
  }
  if (missing) {
    io.stderr.write(`dynamodb-session: ${missing}\n`)
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
