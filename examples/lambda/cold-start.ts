// Measures what the Lambda example costs at init (a cold start), each run in a fresh Node
// process, as Lambda starts one per execution environment:
//
//   npx tsx examples/lambda/cold-start.ts [runs]        # default 10 runs
//
// Each phase is timed alone in its own process, from bundles as `npm run example:lambda:build`
// makes them: importing the AWS SDK's DynamoDB client, importing this library (with Hono),
// constructing the client, importing the secret as a WebCrypto key, and importing the whole
// handler bundle (all of it at once, as Lambda's init does). No network: the first DynamoDB
// call's connection setup is not in these numbers.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const runs = Number(process.argv[2] ?? 10)
const root = fileURLToPath(new URL('../../', import.meta.url))
const dir = `${root}.cache/cold-start`
mkdirSync(dir, { recursive: true })

const handlerProbe = `
    process.env.SESSION_TABLE = 'sessions'; process.env.SESSION_SECRET = '${'s'.repeat(44)}'; process.env.AWS_REGION = 'us-east-1'
    const t = performance.now(); await import('${root}examples/lambda/handler.ts'); console.log(performance.now() - t)`

/** Each probe prints the milliseconds its phase took. */
const probes: Record<string, string> = {
  'import @aws-sdk/client-dynamodb': `
    const t = performance.now(); await import('@aws-sdk/client-dynamodb'); console.log(performance.now() - t)`,
  'import dynamodb-session, hono, hono/aws-lambda (SDK already loaded)': `
    await import('@aws-sdk/client-dynamodb')
    const t = performance.now(); await import('${root}src/index.ts'); await import('${root}src/adapters/hono.ts'); await import('hono/aws-lambda')
    console.log(performance.now() - t)`,
  'new DynamoDBClient()': `
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb')
    const t = performance.now(); new DynamoDBClient({ region: 'us-east-1' }); console.log(performance.now() - t)`,
  'import the secret (HMAC key)': `
    const { importSigningKeys } = await import('${root}src/core/crypto.ts')
    const t = performance.now(); await importSigningKeys(['${'s'.repeat(44)}']); console.log(performance.now() - t)`,
  'whole handler bundle (init)': handlerProbe,
  'whole handler bundle, minified (init)': handlerProbe,
}

const banner = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);"
const results: Record<string, number[]> = {}
for (const [name, code] of Object.entries(probes)) {
  const entry = `${dir}/${name.replace(/\W+/g, '-')}.ts`
  writeFileSync(entry, code)
  const outfile = entry.replace(/\.ts$/, '.mjs')
  // Dynamic imports stay separate chunks' worth of code but are bundled in: one file, as deployed.
  const minify = name.includes('minified')
  await build({
    entryPoints: [entry],
    bundle: true,
    minify,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile,
    banner: { js: banner },
    logLevel: 'silent',
  })
  results[name] = Array.from({ length: runs }, () =>
    Number(
      execFileSync(process.execPath, [outfile], {
        encoding: 'utf8',
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      }).trim(),
    ),
  )
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
console.log(`Node ${process.version}, ${runs} fresh processes per phase (ms): median, min, max`)
for (const [name, values] of Object.entries(results)) {
  console.log(
    `| ${name} | ${median(values).toFixed(1)} | ${Math.min(...values).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`,
  )
}
