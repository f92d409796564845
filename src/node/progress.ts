import type { GarbageCollectionProgress } from '../dynamodb/gc.ts'

const numbers = new Intl.NumberFormat('en-US')

/** 12345 → '12,345'. */
export function formatNumber(value: number): string {
  return numbers.format(value)
}

/** Seconds in the largest unit that divides them: 18000 → '5h', 90 → '90s'. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ['w', 604_800],
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`
  }
  return `${seconds}s`
}

/**
 * One status line on a terminal, redrawn in place at most ten times a second: what gc scanned and
 * deleted, and how fast.
 */
export function progressPrinter(stream: { write(text: string): unknown }) {
  let last = 0
  let shown = false
  let latest: GarbageCollectionProgress | undefined
  const draw = () => {
    if (!latest) return
    const seconds = Math.max(latest.elapsedMs / 1000, 0.001)
    const parts = [
      `scanned ${formatNumber(latest.scanned)}`,
      `deleted ${formatNumber(latest.deleted)}`,
      `${formatNumber(Math.round(latest.scanned / seconds))} items/s`,
      `segments ${latest.segmentsDone}/${latest.segments}`,
    ]
    if (latest.skipped > 0) parts.push(`skipped ${formatNumber(latest.skipped)}`)
    if (latest.retried > 0) parts.push(`retried ${formatNumber(latest.retried)}`)
    stream.write(`\r\x1b[2K${parts.join(' · ')}`) // back to the line's start, clear it, redraw
    shown = true
  }
  return {
    update(progress: GarbageCollectionProgress) {
      latest = progress
      const now = Date.now()
      if (now - last >= 100) {
        last = now
        draw()
      }
    },
    done() {
      draw()
      if (shown) stream.write('\n')
    },
  }
}
