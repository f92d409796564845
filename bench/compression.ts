// Whether DynamoDBStore compresses large data when given COMPRESS_OPTIONS. The option does not
// exist yet; rather than read the source, this asks the store itself: it writes the same 50 KB
// session with and without the option through a client that only records the item, and
// compares the two items' sizes. An unknown option is ignored, so the sizes then match.
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { itemSize } from '../src/dynamodb-store.ts'
import { DynamoDBStore } from '../src/index.ts'
import { largeSession } from './data.ts'
import { COMPRESS_OPTIONS } from './systems.ts'

async function sizeOfCreatedItem(options: Record<string, unknown>): Promise<number> {
  let item: Record<string, AttributeValue> | undefined
  const client = {
    send: async (command: { input: { Item?: Record<string, AttributeValue> } }) => {
      item = command.input.Item
      return {}
    },
  } as unknown as DynamoDBClient
  const store = new DynamoDBStore({ tableName: 'probe', client, ...options })
  const now = Math.floor(Date.now() / 1000)
  await store.create({
    key: 'probe',
    data: largeSession(0),
    createdAt: now,
    updatedAt: now,
    expiresAt: now + 60,
  })
  if (!item) throw new Error('DynamoDBStore.create sent no PutItem')
  return itemSize(item)
}

export interface CompressionProbe {
  supported: boolean
  /** Item bytes of the 50 KB session, as DynamoDB counts them, without and with the option. */
  plainBytes: number
  compressedBytes: number
}

export async function probeCompression(): Promise<CompressionProbe> {
  const plainBytes = await sizeOfCreatedItem({})
  let compressedBytes = plainBytes
  try {
    compressedBytes = await sizeOfCreatedItem(COMPRESS_OPTIONS)
  } catch {
    // A store that refuses the option does not have it.
  }
  return { supported: compressedBytes < plainBytes, plainBytes, compressedBytes }
}
