// Only the micro-benchmark: no DynamoDB Local (the project's vitest.config.ts starts one for the
// tests), and never part of `npm test`.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: [],
    benchmark: { include: ['bench/micro/**/*.bench.ts'] },
  },
})
