import { parseSetCookie } from 'cookie'

/**
 * A browser's cookie jar for one site: keeps every cookie a response sets, drops the ones it
 * expires, and sends them all back in one Cookie header.
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>()

  /** The Cookie header a browser would send, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.#cookies.size === 0) return undefined
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name)
  }

  set(name: string, value: string): void {
    this.#cookies.set(name, value)
  }

  /** Takes in Set-Cookie lines, as a browser does. */
  take(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const { name, value, maxAge, expires } = parseSetCookie(line, { decode: (text) => text })
      const expired =
        (maxAge !== undefined && maxAge <= 0) || (expires !== undefined && expires <= new Date())
      if (expired || !value) this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }
}
