// What the Deno and Bun demos read from their environment, the same way examples/node/server.ts does.
import { createTable, type DynamoDBStore, type DynamoDBStoreOptions } from '../../src/index.ts'

export interface DemoEnvironment {
  store: DynamoDBStoreOptions
  secretKey: string
  secure: boolean
  port: number
  /** Creates the table if it is missing (idempotent), as the Node demo does. */
  ready(store: DynamoDBStore): Promise<void>
}

export function environment(env: Record<string, string | undefined>): DemoEnvironment {
  const endpoint = env.DYNAMODB_ENDPOINT
  const store: DynamoDBStoreOptions = {
    tableName: env.SESSION_TABLE || 'sessions',
    region: env.AWS_REGION || 'us-east-1',
  }
  if (endpoint) {
    store.endpoint = endpoint
    // DynamoDB Local accepts any credentials, but the SDK insists on having some.
    if (!env.AWS_ACCESS_KEY_ID) store.credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
  }
  return {
    store,
    secretKey: env.SESSION_SECRET || randomSecret(),
    // Plain http://127.0.0.1 in development: browsers drop Secure cookies there.
    secure: env.NODE_ENV === 'production',
    port: Number(env.PORT || 3000),
    async ready(sessions) {
      await createTable({ ...store, client: sessions.client, maxWaitTime: 60 })
    },
  }
}

function randomSecret(): string {
  console.warn('SESSION_SECRET is not set: using a random secret, so sessions will not survive a restart.')
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
}
