import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import {
  type ConfigFile,
  type ConfigSources,
  configFileName,
  configFileNamer,
  loadConfig,
  type SessionConfig,
} from '../config/config.ts'
import { ConfigError, type ConfigSource } from '../errors.ts'

/**
 * `loadConfig` on Node: reads `process.env` (unless `env` is given) and the YAML or JSON file
 * that `options.configFile` or `AWS_DYNAMO_DB_SESSION_CONFIG_FILE` names, relative to the
 * working directory (`.json` is read as JSON, anything else as YAML). Precedence: code > command
 * line > environment > file > defaults.
 *
 * @example
 * import { loadNodeConfig } from 'dynamodb-session/node'
 * const config = loadNodeConfig({ require: ['tableName', 'secretKey'] })
 * const withSession = sessionMiddleware({ ...config, store: new DynamoDBStore(config) })
 */
export function loadNodeConfig<
  Options extends SessionConfig = SessionConfig,
  Required extends keyof SessionConfig = never,
>(sources: Omit<ConfigSources<Options>, 'file'> & { require?: readonly Required[] } = {}) {
  const env = sources.env ?? process.env
  const named = configFileName({ ...sources, env })
  const file = named && readConfigFile(named)
  return loadConfig<Options, Required>(file ? { ...sources, env, file } : { ...sources, env })
}

function readConfigFile({ name, source }: { name: string; source: ConfigSource }): ConfigFile {
  let text: string
  try {
    text = readFileSync(name, 'utf8')
  } catch (error) {
    const by = configFileNamer(source)
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new ConfigError(
      `Config file ${name} (named by ${by}) cannot be read: ${reason}.`,
      'configFile',
      source,
    )
  }
  if (/\.json$/i.test(name)) return { name, text }
  try {
    return { name, content: parseYaml(text) }
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)
    throw new ConfigError(`Config file ${name} cannot be parsed: ${reason}`, 'configFile', 'config file')
  }
}
