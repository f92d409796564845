// The size of a Cloudflare Worker that uses the package: a minimal worker (middleware, store,
// getSession) and the Workers example, bundled as wrangler does (esbuild, browser/worker
// conditions, no nodejs_compat), minified, then gzipped. `node scripts/bundle-size.mjs [--json]`.
// Workers' limits apply to the gzipped size: 3 MB on the free plan, 10 MB on paid plans.

import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))

const MINIMAL_WORKER = `
import { DynamoDBStore, getSession, sessionMiddleware } from './src/index.ts'
let withSession
export default {
  fetch(request, env) {
    withSession ??= sessionMiddleware({
      secretKey: env.SESSION_SECRET,
      store: new DynamoDBStore({ tableName: env.SESSION_TABLE, region: env.AWS_REGION, credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }),
    })
    return withSession(request, async (request) => {
      const session = getSession(request)
      const count = ((await session.get('count')) ?? 0) + 1
      await session.set('count', count)
      return new Response(String(count))
    })
  },
}`

async function measure(name, entry) {
  const result = await build({
    ...entry,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['worker', 'browser'],
    target: 'es2022',
    write: false,
    metafile: true,
    absWorkingDir: root,
    logLevel: 'error',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array()
  // What the package itself adds, apart from the AWS SDK and the other dependencies.
  const own = Object.entries(result.metafile.outputs)[0]?.[1].inputs ?? {}
  const packageBytes = Object.entries(own)
    .filter(([path]) => path.startsWith('src/') || path.startsWith('examples/'))
    .reduce((sum, [, input]) => sum + input.bytesInOutput, 0)
  return { name, minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength, packageBytes }
}

const sizes = [
  await measure('minimal worker', { stdin: { contents: MINIMAL_WORKER, resolveDir: root, loader: 'ts' } }),
  await measure('examples/worker', { entryPoints: [`${root}examples/worker/index.ts`] }),
]

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(sizes))
} else {
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`
  for (const size of sizes) {
    console.log(
      `${size.name.padEnd(16)} minified ${kb(size.minified).padStart(10)}   gzipped ${kb(size.gzipped).padStart(9)}` +
        `   (dynamodb-session's own code: ${kb(size.packageBytes)} minified)`,
    )
  }
}
