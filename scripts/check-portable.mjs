// Fails when the portable core (src/ outside src/node/) reaches for Node: a `node:` import, a
// Node built-in imported by its bare name, or a Node-only global. The core runs unchanged on
// Deno, Bun and Cloudflare Workers; only src/node/ may use Node. Part of `npm run check`.
//
// esbuild parses the sources, so comments, strings and type-only imports never count: imports
// come from its metafile, and each global is `define`d to a marker that only a real reference
// to the global (not a property, not a local of that name) turns into.
import { readdir, readFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { everyImportExternal } from './every-import-external.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
// A folder argument checks another tree the same way (the script's own test uses one).
const src = process.argv[2] ? resolve(process.argv[2]) : join(root, 'src')
const outdir = join(root, '.cache', 'check-portable')
const NODE_GLOBALS = [
  'process',
  'Buffer',
  '__dirname',
  '__filename',
  'require',
  'global',
  'module',
  'exports',
]
const MARKER = '__node_only_global__'
const builtins = new Set(builtinModules)

/** Every .ts file under src/ but src/node/ and tests (which run under Node, in vitest). */
async function portableFiles() {
  const entries = await readdir(src, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !relative(src, file).startsWith(`node${'/'}`))
    .sort()
}

/** `node:fs`, `fs`, `fs/promises`: what Node resolves as a built-in. */
function isNodeBuiltin(specifier) {
  return specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(specifier.split('/')[0])
}

const files = await portableFiles()
const result = await build({
  entryPoints: files,
  bundle: true,
  write: false,
  metafile: true,
  format: 'esm',
  platform: 'neutral',
  outdir,
  outbase: src,
  logLevel: 'silent',
  define: Object.fromEntries(NODE_GLOBALS.map((name) => [name, `${MARKER}${name}`])),
  plugins: [everyImportExternal],
})

const problems = []
for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
  // Inputs are named relative to the working directory; imports of node: modules are all external.
  for (const { path, kind } of imports) {
    if (isNodeBuiltin(path)) problems.push(`${input}: imports the Node built-in "${path}" (${kind})`)
  }
}
for (const output of result.outputFiles) {
  const used = new Set([...output.text.matchAll(new RegExp(`${MARKER}(\\w+)`, 'g'))].map((match) => match[1]))
  if (used.size === 0) continue
  const source = files.find(
    (file) => output.path === join(outdir, relative(src, file).replace(/\.ts$/, '.js')),
  )
  const name = source ? relative(root, source) : output.path
  const text = source ? await readFile(source, 'utf8') : ''
  for (const global of used) {
    const line = text.split('\n').findIndex((line) => new RegExp(`(^|[^.\\w$])${global}\\b`).test(line))
    problems.push(`${name}${line >= 0 ? `:${line + 1}` : ''}: uses the Node-only global "${global}"`)
  }
}

if (problems.length > 0) {
  console.error(
    `The portable core must not depend on Node (move such code to src/node/):\n  ${problems.join('\n  ')}`,
  )
  process.exit(1)
}
console.log(
  `check-portable: ${files.length} files in src/ (outside src/node/) use no Node built-ins or globals.`,
)
