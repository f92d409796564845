#!/usr/bin/env node
// `npx dynamodb-session <command>`: the table and garbage collection for operators, configured by
// the same options, environment variables and config file as the middleware.
import { main } from './commands.ts'

// The SDK warns at length that its 2027 releases will need Node 22: news for this package's
// maintainers, not for an operator running a command, whose errors must stay one line.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const controller = new AbortController()
process.once('SIGINT', () => {
  controller.abort() // gc finishes the requests in flight and reports what it did
  process.once('SIGINT', () => process.exit(130)) // a second Ctrl-C does not wait
})
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
})
