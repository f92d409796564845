// The conformance suite on Bun: `DYNAMODB_ENDPOINT=… bun test/runtimes/bun.ts` (npm run test:bun).
import { inputFromEnv, runSuite } from './suite.ts'

const lib = await import(new URL('../../dist/index.js', import.meta.url).href)
const report = await runSuite(inputFromEnv(lib, 'bun', process.env))
console.log(JSON.stringify(report))
process.exitCode = report.ok ? 0 : 1
