// Fails when an import in src/ points up a layer or goes round in a circle. Part of `npm run check`.
//
// The layers, from the bottom: errors.ts imports nothing; option-checks.ts (the option checks every
// entry point shares) only errors; store/ (the Store contract and
// MemoryStore) only errors; core/ (cookie, signing, the session, the per-request decision, the
// fetch middleware; Web APIs only) and dynamodb/ (the DynamoDB store and its operations) each
// only themselves, store/, errors and option-checks; config/ may read option types from core/ and dynamodb/;
// adapters/ sit on core/; node/ (CLI, Node-only helpers) and the entry files may use anything
// but each other. Type-only imports count too: a type that points up is a layer leak all the same.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = process.argv[2] ? resolve(process.argv[2]) : join(root, 'src')

const MAY_IMPORT = {
  errors: [],
  checks: ['errors'],
  store: ['errors'],
  core: ['store', 'errors', 'checks'],
  dynamodb: ['store', 'errors', 'checks'],
  config: ['core', 'dynamodb', 'store', 'errors', 'checks'],
  adapters: ['core', 'store', 'errors', 'checks'],
  node: ['config', 'core', 'dynamodb', 'store', 'errors', 'checks'],
  entry: ['adapters', 'config', 'core', 'dynamodb', 'store', 'errors', 'checks'],
}

/** `core` for src/core/session.ts, `errors` for src/errors.ts, `entry` for src/index.ts. */
function layerOf(file) {
  const path = relative(src, file)
  if (path === 'errors.ts') return 'errors'
  if (path === 'option-checks.ts') return 'checks'
  const folder = path.split('/')[0]
  if (folder === path) return 'entry'
  if (!(folder in MAY_IMPORT))
    throw new Error(`${path}: no layer is defined for src/${folder}/ in this script`)
  return folder
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g

async function importsOf(file) {
  const text = await readFile(file, 'utf8')
  return [...text.matchAll(IMPORT)].map((match) => resolve(dirname(file), match[1]))
}

const entries = await readdir(src, { recursive: true, withFileTypes: true })
const files = entries
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
  .map((entry) => join(entry.parentPath, entry.name))
  .sort()
const graph = new Map()
for (const file of files) graph.set(file, await importsOf(file))

const problems = []
const name = (file) => relative(root, file)
for (const [file, imports] of graph) {
  const from = layerOf(file)
  for (const target of imports) {
    const to = layerOf(target)
    if (to !== from && !MAY_IMPORT[from].includes(to)) {
      problems.push(
        `${name(file)} (${from}) imports ${name(target)} (${to}): ${from}/ may import only ${MAY_IMPORT[from].join(', ') || 'nothing'}`,
      )
    }
  }
}

// Circles between files: a depth-first walk that meets a file still on its own path.
const state = new Map() // file -> 'open' | 'done'
function walk(file, path) {
  state.set(file, 'open')
  for (const target of graph.get(file) ?? []) {
    if (state.get(target) === 'open') {
      const circle = [...path.slice(path.indexOf(target)), target].map(name)
      problems.push(`import circle: ${circle.join(' -> ')}`)
    } else if (!state.has(target)) walk(target, [...path, target])
  }
  state.set(file, 'done')
}
for (const file of files) if (!state.has(file)) walk(file, [file])

if (problems.length > 0) {
  console.error(`Imports must point down the layers, with no circles:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
const layers = new Set(files.map(layerOf))
console.log(
  `check-layers: ${files.length} files in ${layers.size} layers; every import points down, no circles.`,
)
