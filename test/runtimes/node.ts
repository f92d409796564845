// The conformance suite on Node: `DYNAMODB_ENDPOINT=… tsx test/runtimes/node.ts` (npm run test:node).
import { inputFromEnv, runSuite } from './suite.ts'

const lib = await import(new URL('../../dist/index.js', import.meta.url).href)
const report = await runSuite(inputFromEnv(lib, 'node', process.env))
console.log(JSON.stringify(report))
process.exitCode = report.ok ? 0 : 1
