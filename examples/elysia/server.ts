// The Elysia example on Bun. From the repository root:
//
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 SESSION_SECRET=… npx bun examples/elysia/server.ts
import { DynamoDBStore } from '../../src/index.ts'
import { environment } from '../deno/environment.ts'
import { createApp } from './app.ts'

const env = environment(process.env)
const store = new DynamoDBStore(env.store)
await env.ready(store)
const app = createApp({ store, secretKey: env.secretKey, secure: env.secure }).listen({
  port: env.port,
  hostname: '127.0.0.1',
})
console.log(`dynamodb-session demo on ${app.server?.url.origin}`)
