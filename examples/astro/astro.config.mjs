import { fileURLToPath } from 'node:url'
import node from '@astrojs/node'
import { defineConfig } from 'astro/config'

// BUILD_DIR lets this repository's tests build outside the example; a copy can drop it.
const buildDir = process.env.BUILD_DIR
const source = (path) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url))

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'standalone' }),
  // Astro believes the Host header only for these names (others are served as http://localhost,
  // and their form posts refused as cross-site): add the site's own domain here.
  security: { allowedDomains: [{ hostname: 'localhost' }, { hostname: '127.0.0.1' }] },
  ...(buildDir && { outDir: buildDir, cacheDir: `${buildDir}/.cache` }),
  vite: {
    ...(buildDir && { cacheDir: `${buildDir}/.vite` }),
    resolve: {
      // Inside this repository only: the package's source stands in for the installed package.
      // In a copy of this example, delete this alias and `npm install dynamodb-session`.
      alias: {
        'dynamodb-session/astro': source('adapters/astro.ts'),
        'dynamodb-session': source('index.ts'),
      },
    },
  },
})
