// The demo on Bun: Bun.serve and the portable app (../worker/app.ts). From the repository root:
//
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 SESSION_SECRET=… npx bun examples/bun/server.ts
import { DynamoDBStore } from '../../src/index.ts'
import { environment } from '../deno/environment.ts'
import { createApp } from '../worker/app.ts'

declare const Bun: {
  serve(options: { port: number; hostname: string; fetch: (request: Request) => Promise<Response> }): {
    url: URL
  }
}

const env = environment(process.env)
const store = new DynamoDBStore(env.store)
await env.ready(store)
const server = Bun.serve({
  port: env.port,
  hostname: '127.0.0.1',
  fetch: createApp({ store, secretKey: env.secretKey, secure: env.secure }),
})
console.log(`dynamodb-session demo on ${server.url.origin}`)
