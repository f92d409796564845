// Pauses between attempts, for requests DynamoDB throttled or left partly unprocessed, and a
// rate limit for gc's scan.

const BASE_DELAY_MS = 50
const MAX_DELAY_MS = 5000

/**
 * Waits a random time up to 50 ms × 2^(attempt - 1), at most 5 s ("full jitter", so that
 * throttled workers do not retry in step). False when `signal` ended the wait early.
 *
 * @example
 * if (!(await backoff(attempt, signal))) return // aborted
 */
export function backoff(attempt: number, signal?: AbortSignal): Promise<boolean> {
  const delay = Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempt - 1))
  return sleep(delay, signal)
}

/**
 * Waits `ms` milliseconds, or less when `signal` aborts: then false.
 *
 * @example
 * await sleep(100, signal)
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve(!signal?.aborted)
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done)
  })
}

export interface RateLimiter {
  /** Waits until `items` fit the rate and takes them: a scan page's `Limit`, before it is read. */
  reserve(items: number): Promise<void>
  /** Gives back what a page reserved but did not read. */
  refund(items: number): void
}

/**
 * A token bucket shared by all segments: up to one second's worth at once, then `rate` a second.
 * A page reserves its whole `Limit` before it is read, so no burst passes the rate.
 *
 * @example
 * const limiter = rateLimiter(100, signal)
 * await limiter.reserve(25)
 */
export function rateLimiter(rate: number, signal: AbortSignal): RateLimiter {
  let tokens = rate
  let last = Date.now()
  const refill = () => {
    const now = Date.now()
    tokens = Math.min(rate, tokens + ((now - last) / 1000) * rate)
    last = now
  }
  return {
    async reserve(items) {
      refill()
      while (tokens < items && !signal.aborted) {
        await sleep(((items - tokens) / rate) * 1000, signal)
        refill()
      }
      tokens -= items
    },
    refund(items) {
      tokens = Math.min(rate, tokens + items)
    },
  }
}
