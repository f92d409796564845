// Fails when an example reaches into the library past its public entry points. A user copies an
// example and swaps `../../src/index.ts` for `dynamodb-session`; that only works if every import
// into src/ is the source of an entry in package.json's `exports` (./dist/x.js is built from
// src/x.ts). Part of `npm run check`.
//
// esbuild parses the examples, so comments and strings never count; imports come from its metafile.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { everyImportExternal } from './every-import-external.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
// A folder argument checks another tree the same way (test/docs.test.ts uses one).
const examples = process.argv[2] ? resolve(process.argv[2]) : join(root, 'examples')
const src = join(root, 'src')

/** src/index.ts, src/adapters/hono.ts, …: the sources of the package's `exports`. */
async function entrySources() {
  const { exports } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  return new Set(
    Object.values(exports).map((entry) =>
      join(root, entry.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts')),
    ),
  )
}

const allowed = await entrySources()
const files = (await readdir(examples, { recursive: true, withFileTypes: true }))
  .filter(
    (entry) => entry.isFile() && /\.(ts|tsx|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts'),
  )
  .map((entry) => join(entry.parentPath, entry.name))
  .sort()

const result = await build({
  entryPoints: files,
  bundle: true,
  write: false,
  metafile: true,
  format: 'esm',
  platform: 'neutral',
  outdir: join(root, '.cache', 'check-examples'),
  absWorkingDir: root,
  logLevel: 'silent',
  plugins: [everyImportExternal],
})

const problems = []
for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
  const file = resolve(root, input)
  for (const { path } of imports) {
    if (!path.startsWith('.')) continue // a package: the public name, or a dependency
    const target = resolve(dirname(file), path)
    if (relative(src, target).startsWith('..') || allowed.has(target)) continue
    const entries = [...allowed].map((entry) => relative(root, entry)).join(', ')
    problems.push(
      `${relative(root, file)}: imports ${relative(root, target)}, which is not an entry point (${entries})`,
    )
  }
}

if (problems.length > 0) {
  console.error(
    `Examples may import the library only through its public entry points, as a user can:\n  ${problems.join('\n  ')}\nExport what the example needs from an entry point instead.`,
  )
  process.exit(1)
}
console.log(`check-examples: ${files.length} example files import the library only through its entry points.`)
