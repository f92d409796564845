import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import type { DynamoDBStoreOptions } from './options.ts'

/**
 * The SDK client settings given in a store's options; the SDK's own defaults fill the rest.
 *
 * @example
 * new DynamoDBClient(clientConfig({ endpoint: 'http://127.0.0.1:8000' }))
 */
export function clientConfig({
  region,
  endpoint,
  credentials,
}: Pick<DynamoDBStoreOptions, 'region' | 'endpoint' | 'credentials'>): DynamoDBClientConfig {
  const config: DynamoDBClientConfig = {}
  if (region !== undefined) config.region = region
  if (endpoint !== undefined) config.endpoint = endpoint
  if (credentials !== undefined) config.credentials = credentials
  return config
}

/**
 * Runs `work` with the caller's client, or with one made from `region`, `endpoint` and
 * `credentials` and destroyed afterwards, so a one-off command leaves no open sockets behind.
 *
 * @example
 * await withClient({ region: 'eu-west-1' }, (client) => client.send(new ListTablesCommand({})))
 */
export async function withClient<T>(
  options: Pick<DynamoDBStoreOptions, 'client' | 'region' | 'endpoint' | 'credentials'>,
  work: (client: DynamoDBClient) => Promise<T>,
): Promise<T> {
  if (options.client) return work(options.client)
  const client = new DynamoDBClient(clientConfig(options))
  try {
    return await work(client)
  } finally {
    client.destroy()
  }
}

/**
 * One SDK call, so the store can wrap its errors, bound its time and meter it while keeping its
 * output type. Its input spreads `capacity`, which asks DynamoDB for the capacity it consumed
 * only when someone is metering.
 */
export type Command<Output> = (
  client: DynamoDBClient,
  options: { abortSignal: AbortSignal },
  capacity: { ReturnConsumedCapacity?: 'TOTAL' },
) => Promise<Output>

/** The store's way to run a `Command` named `operation` (e.g. 'GetItem'), mapping its errors. */
export type Send = <Output>(operation: string, command: Command<Output>) => Promise<Output>
