// Starts AWS's DynamoDB Local once for the whole run and hands its endpoint to the tests,
// which read it with inject('dynamodbEndpoint') (see test/dynamodb.ts).
import type { TestProject } from 'vitest/node'
// @ts-expect-error: a plain-JavaScript script shared with `npm run dynamodb-local`, without types
import { ensureDynamoDBLocal, startDynamoDBLocal } from '../../scripts/dynamodb-local.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string
  }
}

type DynamoDBLocal = { endpoint: string; stop: () => Promise<void> }

export default async function setup(project: TestProject) {
  await (ensureDynamoDBLocal as () => Promise<string>)()
  const { endpoint, stop } = await (startDynamoDBLocal as () => Promise<DynamoDBLocal>)()
  project.provide('dynamodbEndpoint', endpoint)
  return async () => {
    await stop()
  }
}
