// Keeps docs/performance.md's Results section equal to the latest run: `npm run bench` writes
// bench/results/latest.md and then this copies it between the page's two marker comments, so the
// page's tables cannot drift from the run they claim to show. The text around them is written by
// hand and quotes a named run.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT } from './processes.ts'

export const PERFORMANCE_DOC = join(ROOT, 'docs', 'performance.md')
const START = '<!-- bench:latest:start'
const END = '<!-- bench:latest:end -->'

/**
 * `doc` with the lines between its start and end markers replaced by `latest` (a run's markdown).
 *
 * @example
 * withLatestResults(await readFile(PERFORMANCE_DOC, 'utf8'), await readFile('bench/results/latest.md', 'utf8'))
 */
export function withLatestResults(doc: string, latest: string): string {
  const start = doc.indexOf(START)
  const end = doc.indexOf(END)
  if (start < 0 || end < start) {
    throw new Error(
      `docs/performance.md has lost its "${START} … -->" and "${END}" lines around the Results tables: put them back so npm run bench can update the tables between them.`,
    )
  }
  const afterStart = doc.indexOf('\n', start) + 1
  return `${doc.slice(0, afterStart)}${latest.trimEnd()}\n${doc.slice(end)}`
}

/** Puts `latest` into docs/performance.md's Results section. */
export async function updatePerformanceDoc(latest: string): Promise<string> {
  const doc = await readFile(PERFORMANCE_DOC, 'utf8')
  await writeFile(PERFORMANCE_DOC, withLatestResults(doc, latest))
  return PERFORMANCE_DOC
}
