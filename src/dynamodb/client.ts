import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { clientConfig, type DynamoDBStoreOptions } from './store.ts'

/**
 * Runs `work` with the caller's client, or with one made from `region`, `endpoint` and
 * `credentials` and destroyed afterwards, so a one-off command leaves no open sockets behind.
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
