// Starts AWS's DynamoDB Local once for the whole run and hands its endpoint to the tests.
import type { TestProject } from 'vitest/node'
// @ts-expect-error: a plain-JavaScript script shared with `npm run dynamodb-local`
import { startDynamoDBLocal } from '../scripts/dynamodb-local.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string
  }
}

export default async function setup(project: TestProject) {
  const { endpoint, stop } = (await startDynamoDBLocal()) as { endpoint: string; stop: () => Promise<void> }
  project.provide('dynamodbEndpoint', endpoint)
  return stop
}
