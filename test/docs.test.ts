// The documentation stays true to the repository: links lead somewhere, the tests the security
// page cites still exist, the performance page shows the latest benchmark, and examples import
// the library only as a user can.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, test } from 'vitest'
import { withLatestResults } from '../bench/performance-doc.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (path: string) => readFile(join(root, path), 'utf8')

async function markdownFiles(): Promise<string[]> {
  const docs = (await readdir(join(root, 'docs'))).filter((name) => name.endsWith('.md'))
  return ['README.md', 'CHANGELOG.md', ...docs.map((name) => `docs/${name}`)]
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-')
}

function anchors(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '')
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1] ?? '')))
}

/** Relative links `[text](target)` outside code blocks, with the line they are on. */
function relativeLinks(markdown: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = []
  let inCode = false
  markdown.split('\n').forEach((text, index) => {
    if (text.startsWith('```')) inCode = !inCode
    if (inCode) return
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1] ?? ''
      if (!/^[a-z]+:/.test(target)) links.push({ target, line: index + 1 })
    }
  })
  return links
}

describe('links', () => {
  test('every relative link in README.md, CHANGELOG.md and docs/ leads to a file and heading that exist', async () => {
    const broken: string[] = []
    const files = await markdownFiles()
    expect(files).toEqual(expect.arrayContaining(['docs/options.md', 'docs/scaling.md', 'docs/security.md']))
    for (const file of files) {
      for (const { target, line } of relativeLinks(await read(file))) {
        const [path = '', anchor] = target.split('#')
        const linked = path ? resolve(dirname(join(root, file)), path) : join(root, file)
        if (!existsSync(linked)) {
          broken.push(`${file}:${line}: ${target} (no such file)`)
        } else if (anchor && linked.endsWith('.md') && !anchors(await readFile(linked, 'utf8')).has(anchor)) {
          broken.push(`${file}:${line}: ${target} (no heading "#${anchor}" in ${relative(root, linked)})`)
        }
      }
    }
    expect(broken).toEqual([])
  })

  test('the README stays a short introduction that links every page of docs/', async () => {
    const readme = await read('README.md')
    expect(readme.split('\n').length).toBeLessThanOrEqual(300)
    for (const page of [
      'options',
      'runtimes',
      'operations',
      'security',
      'performance',
      'errors',
      'events',
      'scaling',
    ]) {
      expect(readme).toContain(`](docs/${page}.md)`)
    }
  })
})

/**
 * Whether `source` names the test `name`: as written, or without a closing note in brackets
 * ("… (`npm run soak` runs 60 s)"), with a number allowed to stand for a `${…}` in the source.
 */
function citedIn(source: string, name: string): boolean {
  return [name, name.replace(/ \([^)]*\)$/, '')].some((candidate) => {
    const escaped = candidate.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    return new RegExp(escaped.replace(/\d+/g, '(?:\\d+|\\$\\{\\w+\\})')).test(source)
  })
}

describe('docs/security.md', () => {
  test('every test it cites as proof is still a test in the file it names', async () => {
    const security = await read('docs/security.md')
    const citations = [...security.matchAll(/^- \[`([^`]+)`\]\([^)]+\)[^›]*› (.+)$/gm)]
    expect(citations.length).toBeGreaterThan(15)
    const missing: string[] = []
    for (const [, file = '', names = ''] of citations) {
      const source = await read(file)
      for (const cited of names.split('; ')) {
        // "(update) …" names the describe block first; "describe › test" names both.
        const name = cited.replace(/^\([^)]*\) /, '')
        const parts = name.split(' › ')
        if (!parts.every((part) => citedIn(source, part))) missing.push(`${file}: "${name}"`)
      }
    }
    expect(missing).toEqual([])
  })
})

describe('docs/performance.md', () => {
  test('shows the tables of the latest benchmark run, bench/results/latest.md, unchanged', async () => {
    const page = await read('docs/performance.md')
    const latest = await read('bench/results/latest.md')
    expect(withLatestResults(page, latest)).toBe(page)
    expect(page).toContain(latest.split('\n')[0])
  })

  test('npm run bench replaces only what lies between the markers', () => {
    const page =
      'intro\n<!-- bench:latest:start (do not edit) -->\nold tables\n<!-- bench:latest:end -->\noutro\n'
    expect(withLatestResults(page, '### Benchmark: new\n| a |\n')).toBe(
      'intro\n<!-- bench:latest:start (do not edit) -->\n### Benchmark: new\n| a |\n<!-- bench:latest:end -->\noutro\n',
    )
  })

  test('a page that lost its markers is refused with what to put back', () => {
    expect(() => withLatestResults('# Performance\n', 'tables')).toThrow(
      /bench:latest:start[\s\S]*put them back/,
    )
  })
})

describe('scripts/check-examples.mjs', () => {
  const checkExamples = (folder: string) =>
    promisify(execFile)(process.execPath, [join(root, 'scripts/check-examples.mjs'), folder], { cwd: root })

  test('passes imports of the entry points and of packages, and fails one past them, naming it', async () => {
    // Inside the repository, so that ../../../src/ is the real src/.
    await mkdir(join(root, '.cache'), { recursive: true })
    const folder = await mkdtemp(join(root, '.cache', 'check-examples-'))
    try {
      await mkdir(join(folder, 'app'))
      await writeFile(
        join(folder, 'app', 'good.ts'),
        [
          "import { Hono } from 'hono'",
          "import { getSession } from 'dynamodb-session'",
          "import { DynamoDBStore } from '../../../src/index.ts'",
          "import { session } from '../../../src/adapters/hono.ts'",
          "import { loadNodeConfig } from '../../../src/node/index.ts'",
          "// import { hashSessionId } from '../../../src/core/crypto.ts' in a comment does not count",
          'export const all = [Hono, getSession, DynamoDBStore, session, loadNodeConfig]',
        ].join('\n'),
      )
      await expect(checkExamples(folder)).resolves.toMatchObject({
        stdout: expect.stringContaining('1 example files'),
      })

      await writeFile(
        join(folder, 'app', 'bad.ts'),
        "import { hashSessionId } from '../../../src/core/crypto.ts'\nexport const hash = hashSessionId\n",
      )
      const failure = await checkExamples(folder).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      )
      expect(failure?.code).toBe(1)
      expect(failure?.stderr).toContain('app/bad.ts: imports src/core/crypto.ts, which is not an entry point')
      expect(failure?.stderr).not.toContain('good.ts')
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })

  test("passes the repository's own examples", async () => {
    await expect(checkExamples(join(root, 'examples'))).resolves.toMatchObject({
      stdout: expect.stringContaining('import the library only through its entry points'),
    })
  })
})
