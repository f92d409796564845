// The worker that runs the conformance suite inside workerd: endpoint and credentials arrive as
// env bindings, as on Cloudflare. workerd.ts bundles it with the built package.
import type * as Package from '../../src/index.ts'
import { inputFromEnv, runSuite } from './suite.ts'

export function suiteWorker(lib: typeof Package) {
  return {
    async fetch(_request: Request, env: Record<string, string | undefined>): Promise<Response> {
      const report = await runSuite(inputFromEnv(lib, 'workerd', env))
      return new Response(JSON.stringify(report), { headers: { 'content-type': 'application/json' } })
    },
  }
}
