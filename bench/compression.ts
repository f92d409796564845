// How much DynamoDBStore's `compress` option (COMPRESS_OPTIONS) shrinks the 50 KB session's item:
// the store writes the same session with and without it through a client that only records the
// item, and the two items' sizes are compared as DynamoDB counts them. A store without the option
// ignores it, so the sizes then match and the benchmark leaves out its compression rows.
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { itemSize } from '../src/dynamodb/item.ts'
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
