// The demo on Deno: Deno.serve and the portable app (../worker/app.ts). From the repository root:
//
//   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 SESSION_SECRET=… npx deno run \
//     --allow-net=127.0.0.1 --allow-env --allow-sys=osRelease --allow-read=. examples/deno/server.ts
//
// Against AWS, give AWS_REGION (and credentials in the environment) instead of DYNAMODB_ENDPOINT,
// and --allow-net=dynamodb.<region>.amazonaws.com plus the port's host.
import { DynamoDBStore } from '../../src/index.ts'
import { createApp } from '../worker/app.ts'
import { environment } from './environment.ts'

declare const Deno: {
  env: { toObject(): Record<string, string> }
  serve(
    options: { port: number; hostname: string; onListen(address: { hostname: string; port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown
}

const env = environment(Deno.env.toObject())
const store = new DynamoDBStore(env.store)
await env.ready(store)
Deno.serve(
  {
    port: env.port,
    hostname: '127.0.0.1',
    onListen: ({ hostname, port }) => console.log(`dynamodb-session demo on http://${hostname}:${port}`),
  },
  createApp({ store, secretKey: env.secretKey, secure: env.secure }),
)
