import adapter from '@sveltejs/adapter-node'

// BUILD_DIR lets this repository's tests build outside the example; a copy can drop it.
const buildDir = process.env.BUILD_DIR

/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    adapter: adapter({ out: buildDir || 'build' }),
    outDir: buildDir ? `${buildDir}/.svelte-kit` : '.svelte-kit',
    // Inside this repository only: the package's source stands in for the installed package.
    // In a copy of this example, delete this alias and `npm install dynamodb-session`.
    alias: {
      'dynamodb-session/sveltekit': '../../src/adapters/sveltekit.ts',
      'dynamodb-session': '../../src/index.ts',
    },
  },
}
