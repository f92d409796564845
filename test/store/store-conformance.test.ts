// The Store contract, proved for every store this library ships.
import { afterAll } from 'vitest'
import { DynamoDBStore } from '../../src/dynamodb/store.ts'
import { MemoryStore } from '../../src/store/memory.ts'
import { createSessionTable, localClient, uniqueTableName } from '../support/dynamodb.ts'
import { storeConformance } from '../support/store-conformance.ts'

const client = localClient()
afterAll(() => client.destroy())

storeConformance('MemoryStore', () => new MemoryStore())

storeConformance('DynamoDBStore', async () => {
  const tableName = await createSessionTable(client, uniqueTableName('conformance'))
  return new DynamoDBStore({ client, tableName })
})

storeConformance('DynamoDBStore in a single-table layout', async () => {
  const tableName = await createSessionTable(client, uniqueTableName('conformance-single'), {
    keyAttribute: 'pk',
    sortKey: 'sk',
  })
  return new DynamoDBStore({
    client,
    tableName,
    keyAttribute: 'pk',
    keyPrefix: 'SESSION#',
    sortKey: { attribute: 'sk', value: 'SESSION' },
    dataAttribute: 'payload',
    expiresAttribute: 'ttl',
  })
})
