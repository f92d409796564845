import { SessionError } from './errors.ts'

/**
 * An option that is unknown, badly written or missing: `option` names it, `source` says where it
 * came from, and the message says how to fix it.
 *
 * @example
 * try {
 *   loadConfig({ env: { AWS_DYNAMO_DB_SESSION_MAX_STALE: '5x' } })
 * } catch (error) {
 *   if (error instanceof ConfigError) console.error(error.option, error.source) // 'maxStale' 'environment'
 * }
 */
export class ConfigError extends SessionError {
  /** The option's name (`maxStale`, `cookie.secure`), or the unknown name as it was written. */
  readonly option: string
  /** Where the value came from: `environment`, `command line`, `config file` or `code`. */
  readonly source: ConfigSource

  constructor(message: string, option: string, source: ConfigSource) {
    super('INVALID_CONFIG', message)
    this.option = option
    this.source = source
  }
}

export type ConfigSource = 'code' | 'command line' | 'environment' | 'config file'
