// Runs TypeDoc (`npm run docs`, and `npm run docs:check` in `npm run check`); arguments go to its CLI.
// The project builds with TypeScript 7, whose npm package has no compiler API, while TypeDoc needs
// one (it accepts TypeScript 5.0 to 6.0). So TypeDoc and TypeScript 5.9 live in the workspace
// tools/typedoc/, where npm installs them apart from the root's TypeScript 7 (whose `tsc` the
// build keeps using), and TypeDoc finds TypeScript 5.9 there as its own dependency.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const require = createRequire(new URL('../tools/typedoc/package.json', import.meta.url))
const typedoc = dirname(require.resolve('typedoc/package.json'))
// The CLI is not among typedoc's exports, so it is imported by its path.
await import(pathToFileURL(join(typedoc, 'dist', 'cli.js')).href)
