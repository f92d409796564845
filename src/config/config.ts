// Options from code, the command line, environment variables and a YAML or JSON file, merged by
// precedence as in the Ruby gem (code > env > file > defaults). No Node built-ins: on Workers the
// env bindings object is the environment, and a file is handed in by the caller. YAML is parsed
// by the Node loader (src/node/config.ts), so a Worker's bundle carries no YAML parser.
// src/config/ may read option types from src/core/ and src/dynamodb/; nothing below imports it.

import { ConfigError, type ConfigSource } from '../errors.ts'
import { ALL_OPTION_NAMES, closest } from '../option-checks.ts'
import {
  BY_ENV,
  BY_FLAG,
  CODE_ONLY,
  camel,
  ENV_PREFIX,
  envName,
  flagName,
  PARSERS,
  type SessionConfig,
  snake,
} from './options.ts'
import { BadValue } from './parsers.ts'

export {
  ENV_PREFIX,
  envName,
  flagName,
  OPTION_PATHS,
  type OptionPath,
  type SessionConfig,
} from './options.ts'
export { parseDuration } from './parsers.ts'

export interface ConfigSources<Options extends SessionConfig = SessionConfig> {
  /** Options from code: they win over every other source. The client, `onError` and `onEvent` come only from here. */
  options?: Options
  /**
   * Values from a command line, by option name in kebab case (`'max-stale': '5h'`); they come
   * after code and before the environment.
   */
  args?: Record<string, string | undefined>
  /**
   * The environment: `process.env`, or a Worker's env bindings. Only `AWS_DYNAMO_DB_SESSION_*`
   * entries are read, and each must name an option.
   */
  env?: Record<string, unknown>
  /**
   * The config file that `options.configFile` or `AWS_DYNAMO_DB_SESSION_CONFIG_FILE` names (see
   * `configFileName`): its name and either the text of a `.json` file or the parsed `content` of
   * any file (what a YAML parser returns). `loadNodeConfig` reads and parses it for you.
   */
  file?: ConfigFile
}

/** A config file, by name: the text of a JSON file, or the parsed content of any file. */
export type ConfigFile = { name: string; text: string } | { name: string; content: unknown }

const CONFIG_FILE_VARIABLE = `${ENV_PREFIX}CONFIG_FILE`
const CONFIG_FILE_FLAG = 'config-file'

/** What named the config file, for messages: `configFileNamer('environment')` is the variable. */
export function configFileNamer(source: ConfigSource): string {
  if (source === 'code') return 'the configFile option'
  return source === 'command line' ? `--${CONFIG_FILE_FLAG}` : CONFIG_FILE_VARIABLE
}

/**
 * The config file that code, the command line (`--config-file`) or the environment names, and
 * which of them named it.
 *
 * @example
 * configFileName({ env: process.env }) // { name: 'sessions.yml', source: 'environment' }
 */
export function configFileName({
  options,
  args,
  env,
}: Pick<ConfigSources, 'options' | 'args' | 'env'>): { name: string; source: ConfigSource } | undefined {
  if (options?.configFile !== undefined) return { name: options.configFile, source: 'code' }
  const fromArgs = args?.[CONFIG_FILE_FLAG]
  if (fromArgs !== undefined && fromArgs !== '') return { name: fromArgs, source: 'command line' }
  const fromEnv = env?.[CONFIG_FILE_VARIABLE]
  if (typeof fromEnv === 'string' && fromEnv !== '') return { name: fromEnv, source: 'environment' }
  return undefined
}

/**
 * Merges options from code, the command line, the environment and a config file, in that order of
 * precedence; the defaults are left to the store, the middleware, createTable and collectGarbage.
 * Strings are parsed (whole numbers, booleans, durations like `5h`); an unknown option or a bad
 * value throws a `ConfigError` naming the option and where it came from. Options listed in
 * `require` must be set by some source. Runs anywhere: on Node, `loadNodeConfig` from
 * `dynamodb-session/node` reads `process.env` and the file for you.
 *
 * @example
 * // A Worker: the env bindings are the environment.
 * const config = loadConfig({ env, require: ['tableName', 'secretKey'] })
 * const store = new DynamoDBStore({ ...config, client })
 * const withSession = sessionMiddleware({ ...config, store })
 */
export function loadConfig<
  Options extends SessionConfig = SessionConfig,
  Required extends keyof SessionConfig = never,
>(
  sources: ConfigSources<Options> & { require?: readonly Required[] },
): SessionConfig & Options & { [Key in Required]-?: NonNullable<SessionConfig[Key]> } {
  const merged: Record<string, unknown> = {}
  const origins = new Map<string, string>()
  const set = (path: string, raw: unknown, where: string, source: ConfigSource) => {
    const parse = PARSERS.get(path)
    if (!parse) throw new ConfigError(`${where} is not an option.`, path, source)
    let value: unknown
    try {
      value = parse(raw)
    } catch (error) {
      if (!(error instanceof BadValue)) throw error
      const shown = path === 'secretKey' ? ' is' : ` is ${JSON.stringify(raw)},` // never echo a secret
      throw new ConfigError(`${where}${shown} not ${error.message}.`, path, source)
    }
    setPath(merged, path, value)
    origins.set(path, where)
  }

  const named = configFileName(sources)
  if (named && !sources.file) {
    throw new ConfigError(
      `${configFileNamer(named.source)} names "${named.name}", but loadConfig reads no files: on Node use loadNodeConfig() from 'dynamodb-session/node', elsewhere pass file: { name, text } or { name, content }.`,
      'configFile',
      named.source,
    )
  }
  if (sources.file) {
    for (const [path, raw, written] of fileEntries(sources.file)) {
      set(path, raw, `"${written}" in config file ${sources.file.name}`, 'config file')
    }
  }
  for (const [variable, raw] of Object.entries(sources.env ?? {})) {
    if (!variable.startsWith(ENV_PREFIX) || variable === CONFIG_FILE_VARIABLE) continue
    if (raw === undefined || raw === '') continue // `VAR= command` unsets, as in a shell
    const where = `${variable} from the environment`
    const path = BY_ENV.get(variable)
    if (path === undefined) throw unknown(variable, where, [...BY_ENV.keys()], 'environment')
    set(path, raw, where, 'environment')
  }
  for (const [flag, raw] of Object.entries(sources.args ?? {})) {
    if (raw === undefined || flag === CONFIG_FILE_FLAG) continue
    const where = `--${flag} on the command line`
    const path = BY_FLAG.get(flag)
    if (path === undefined) {
      throw unknown(
        `--${flag}`,
        where,
        [...BY_FLAG.keys()].map((known) => `--${known}`),
        'command line',
      )
    }
    if (path === 'secretKey') {
      throw new ConfigError(
        `${where}: a secret on the command line is visible to every user of the machine (ps); set ${envName(path)} or secret_key in the config file.`,
        path,
        'command line',
      )
    }
    set(path, raw, where, 'command line')
  }
  for (const [key, value] of Object.entries(sources.options ?? {})) {
    if (value === undefined) continue
    // Values from code are checked by the entry point that reads them; their names are checked here.
    if (!(ALL_OPTION_NAMES as readonly string[]).includes(key)) {
      throw unknown(key, `${key} in code`, [...ALL_OPTION_NAMES], 'code')
    }
    if ((key === 'cookie' || key === 'sortKey') && isPlainObject(value)) {
      for (const [inner, innerValue] of Object.entries(value)) {
        if (innerValue === undefined) continue
        if (!PARSERS.has(`${key}.${inner}`)) {
          const known = [...PARSERS.keys()].filter((path) => path.startsWith(`${key}.`))
          throw unknown(`${key}.${inner}`, `${key}.${inner} in code`, known, 'code')
        }
        setPath(merged, `${key}.${inner}`, innerValue)
        origins.set(`${key}.${inner}`, `${key}.${inner} in code`)
      }
    } else {
      merged[key] = value
      origins.set(key, `${key} in code`)
    }
  }

  const sortKey = merged.sortKey as { attribute?: string; value?: string } | undefined
  if (sortKey && (sortKey.attribute === undefined || sortKey.value === undefined)) {
    const given = sortKey.attribute === undefined ? 'sortKey.value' : 'sortKey.attribute'
    const missing = sortKey.attribute === undefined ? 'attribute' : 'value'
    throw new ConfigError(
      `sortKey needs both an attribute and a value, but only ${origins.get(given)} is set: set ${envName(`sortKey.${missing}`)} or sortKey.${missing} too.`,
      `sortKey.${missing}`,
      'code',
    )
  }
  for (const option of sources.require ?? []) {
    if (merged[option] === undefined) {
      const key = String(option)
      throw new ConfigError(
        `${key} is not set: set it in code, in ${envName(key)}, or as ${snake(key)} in the config file.`,
        key,
        'code',
      )
    }
  }
  return merged as SessionConfig & Options & { [Key in Required]-?: NonNullable<SessionConfig[Key]> }
}

/** The options of a config file, as [path, value, the key as written], from YAML or JSON. */
function fileEntries(file: ConfigFile): [string, unknown, string][] {
  let content: unknown
  if ('content' in file) {
    content = file.content
  } else if (/\.json$/i.test(file.name)) {
    try {
      content = JSON.parse(file.text)
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new ConfigError(
        `Config file ${file.name} cannot be parsed: ${reason}`,
        'configFile',
        'config file',
      )
    }
  } else {
    throw new ConfigError(
      `Config file ${file.name} is not JSON, and loadConfig parses only JSON: on Node use loadNodeConfig() from 'dynamodb-session/node', which reads YAML too; elsewhere pass file: { name, content } with the parsed content.`,
      'configFile',
      'config file',
    )
  }
  if (content === null || content === undefined) return [] // an empty file
  if (!isPlainObject(content)) {
    throw new ConfigError(
      `Config file ${file.name} must hold a mapping of options.`,
      'configFile',
      'config file',
    )
  }
  const where = (written: string) => `"${written}" in config file ${file.name}`
  // Suggestions follow the writer's style: table_name for tabel_name, tableName for tabelName.
  const known = (written: string) =>
    [...PARSERS.keys()].map((path) => (written.includes('_') ? path.split('.').map(snake).join('.') : path))
  const entries: [string, unknown, string][] = []
  const walk = (object: Record<string, unknown>, prefix: string, writtenPrefix: string) => {
    for (const [key, value] of Object.entries(object)) {
      const path = prefix + camel(key)
      const written = writtenPrefix + key
      if (
        (CODE_ONLY as readonly string[]).includes(path) ||
        path === 'configFile' ||
        path === 'errorHandler'
      ) {
        throw new ConfigError(
          `${where(written)} can only be given in code${path === 'configFile' ? ' or the environment' : ''}.`,
          path,
          'config file',
        )
      }
      if ((path === 'cookie' || path === 'sortKey') && isPlainObject(value)) {
        walk(value, `${path}.`, `${written}.`)
      } else if (PARSERS.has(path)) {
        if (value !== null && value !== undefined) entries.push([path, value, written])
      } else {
        throw unknown(written, where(written), known(written), 'config file')
      }
    }
  }
  walk(content, '', '')
  return entries
}

function unknown(written: string, where: string, known: string[], source: ConfigSource): ConfigError {
  const codeOnly = CODE_ONLY.find(
    (option) => envName(option) === written || `--${flagName(option)}` === written,
  )
  if (codeOnly) return new ConfigError(`${where}: "${codeOnly}" can only be given in code.`, codeOnly, source)
  const suggestion = closest(written, known, ENV_PREFIX)
  return new ConfigError(
    `${where} is not an option${suggestion ? `; did you mean ${suggestion}?` : '.'}`,
    written,
    source,
  )
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const [head, tail] = path.split('.') as [string, string | undefined]
  if (tail === undefined) {
    target[head] = value
    return
  }
  const inner = isPlainObject(target[head]) ? { ...target[head] } : {}
  inner[tail] = value
  target[head] = inner
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
