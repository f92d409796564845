// The conformance suite on workerd, inside Miniflare (npm run test:workerd): the suite and the
// built package bundled for the browser/worker conditions, without nodejs_compat.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** The worker script: dist/index.js and the suite, as one ES module. */
export async function bundleSuiteWorker(): Promise<string> {
  const result = await build({
    stdin: {
      contents: [
        "import * as lib from './dist/index.js'",
        "import { suiteWorker } from './test/runtimes/worker.ts'",
        'export default suiteWorker(lib)',
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['worker', 'browser'],
    target: 'es2022',
    write: false,
    logLevel: 'error',
  })
  return result.outputFiles[0]?.text ?? ''
}

const endpoint = process.env.DYNAMODB_ENDPOINT
if (!endpoint) throw new Error('Set DYNAMODB_ENDPOINT, e.g. http://127.0.0.1:8000 (npm run dynamodb-local)')
const bindings: Record<string, string> = {
  DYNAMODB_ENDPOINT: endpoint,
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
}
if (process.env.SUITE_ONLY) bindings.SUITE_ONLY = process.env.SUITE_ONLY
if (process.env.FOREIGN_COOKIE && process.env.FOREIGN_TABLE) {
  bindings.FOREIGN_COOKIE = process.env.FOREIGN_COOKIE
  bindings.FOREIGN_TABLE = process.env.FOREIGN_TABLE
}
const miniflare = new Miniflare({
  modules: true,
  script: await bundleSuiteWorker(),
  compatibilityDate: '2025-12-01',
  bindings,
})
try {
  const response = await miniflare.dispatchFetch('http://127.0.0.1/')
  const text = await response.text()
  console.log(text.trim())
  process.exitCode = JSON.parse(text).ok ? 0 : 1
} finally {
  await miniflare.dispose()
}
