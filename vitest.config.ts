import { defineConfig } from 'vitest/config'

// The AWS SDK warns once per process that its 2027 releases need Node 22 (the README says so);
// with a process per test file and per server under test, the warning would bury the results.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
})
