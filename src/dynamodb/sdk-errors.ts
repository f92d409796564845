// SDK errors as this library's: `SessionStoreError` (or `SessionTooLargeError`) on the request
// path, where `onError` decides; `TableError`, saying what to do, for the table tools and gc.
import {
  SessionError,
  SessionStoreError,
  SessionTooLargeError,
  TableError,
  type TableErrorCode,
} from '../errors.ts'
import { MAX_ITEM_BYTES } from './item.ts'
import type { TableLayout } from './options.ts'

/** DynamoDB's names for "too many requests"; each is worth a retry after a pause. */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
])

/**
 * True when `error` is DynamoDB asking to slow down.
 *
 * @example
 * if (isThrottling(error) && attempt < maxAttempts) await backoff(attempt, signal)
 */
export function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING.has(error.name)
}

/**
 * The store's error for a failed `operation` (e.g. 'GetItem') on `tableName`: a
 * `SessionTooLargeError` when DynamoDB refused the item's size, a `SessionStoreError` otherwise.
 *
 * @example
 * throw toStoreError('GetItem', 'sessions', error)
 */
export function toStoreError(operation: string, tableName: string, error: unknown): SessionError {
  // Other requests may have grown the item past what this one could count before sending.
  if (error instanceof Error && error.name === 'ValidationException' && /item size/i.test(error.message)) {
    return new SessionTooLargeError(undefined, MAX_ITEM_BYTES)
  }
  // DynamoDB refused the request itself (a name or an expression past its limits): retrying or
  // waiting will not help, so it is not reported as the store being unavailable.
  if (error instanceof Error && error.name === 'ValidationException') {
    return new SessionError(
      'STORE_REJECTED',
      `DynamoDB refused ${operation} on table "${tableName}" as invalid: ${error.message}`,
      { cause: error },
    )
  }
  return new SessionStoreError(`${operation} on table "${tableName}"`, error)
}

/**
 * Runs one DynamoDB call of the table tools, turning its failure into a `TableError` that says
 * what to do.
 *
 * @example
 * await send('DeleteTable', layout, () => client.send(new DeleteTableCommand({ TableName })))
 */
export async function send<T>(operation: string, layout: TableLayout, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw toTableError(operation, layout.tableName, error)
  }
}

/**
 * Turns an SDK error from `operation` (e.g. 'DescribeTable') on `tableName` into a `TableError`
 * whose message tells the operator what to do. A `TableError` passes through unchanged.
 *
 * @example
 * throw toTableError('Scan', 'sessions', error)
 */
export function toTableError(operation: string, tableName: string, error: unknown): TableError {
  if (error instanceof TableError) return error
  const name = error instanceof Error ? error.name : ''
  const reason = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | undefined)?.code
  const make = (code: TableErrorCode, message: string) => new TableError(code, message, { cause: error })
  if (name === 'ResourceNotFoundException') {
    return make(
      'TABLE_NOT_FOUND',
      `Table "${tableName}" does not exist (${operation}): create it with \`npx dynamodb-session create-table\` or createTable(), or check the table name and region.`,
    )
  }
  if (name === 'AccessDeniedException') {
    return make(
      'ACCESS_DENIED',
      `Access denied to dynamodb:${operation} on table "${tableName}": allow it in the IAM policy of these credentials. (${reason})`,
    )
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(reason)) {
    return make(
      'NO_CREDENTIALS',
      'No AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is available.',
    )
  }
  if (
    name === 'UnrecognizedClientException' ||
    name === 'InvalidSignatureException' ||
    name === 'ExpiredTokenException' ||
    name === 'InvalidClientTokenId'
  ) {
    return make('INVALID_CREDENTIALS', `AWS rejected the credentials (${name}): ${reason}`)
  }
  if (/region is missing/i.test(reason)) {
    return make(
      'NO_REGION',
      'No AWS region: set AWS_REGION, the "region" option, or AWS_DYNAMO_DB_SESSION_REGION.',
    )
  }
  if (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN'].includes(code)
  ) {
    return make(
      'UNREACHABLE',
      `DynamoDB could not be reached for ${operation} on table "${tableName}" (${code}): check the endpoint, region and network.`,
    )
  }
  if (isThrottling(error)) {
    return make(
      'THROTTLED',
      `${operation} on table "${tableName}" was throttled (${name}): lower the rate or the number of segments, or raise the table's capacity.`,
    )
  }
  return make(
    'REQUEST_FAILED',
    `${operation} on table "${tableName}" failed: ${name ? `${name}: ` : ''}${reason}`,
  )
}
