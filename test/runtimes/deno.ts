// The conformance suite on Deno (npm run test:deno), with only the permissions a deployment needs:
// deno run --allow-net=127.0.0.1 --allow-env --allow-sys=osRelease --allow-read=. test/runtimes/deno.ts
import { inputFromEnv, runSuite } from './suite.ts'

declare const Deno: { env: { toObject(): Record<string, string> }; exit(code: number): never }

const lib = await import(new URL('../../dist/index.js', import.meta.url).href)
const report = await runSuite(inputFromEnv(lib, 'deno', Deno.env.toObject()))
console.log(JSON.stringify(report))
Deno.exit(report.ok ? 0 : 1)
