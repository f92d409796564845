import adapter from '@sveltejs/adapter-node'

/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    // BUILD_DIR lets this repository's tests build outside the example; a copy can drop it.
    adapter: adapter({ out: process.env.BUILD_DIR || 'build' }),
    // Inside this repository only: the package's source stands in for the installed package.
    // In a copy of this example, delete this alias and `npm install dynamodb-session`.
    alias: {
      'dynamodb-session/sveltekit': '../../src/adapters/sveltekit.ts',
      'dynamodb-session': '../../src/index.ts',
    },
  },
}
