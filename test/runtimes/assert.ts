// A tiny assert for the portable suite: it runs where vitest does not (Deno, Bun, workerd).

export class AssertionError extends Error {
  override name = 'AssertionError'
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}

export function equal<T>(actual: T, expected: T, message: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(`${message}: expected ${show(expected)}, got ${show(actual)}`)
  }
}

export function notEqual<T>(actual: T, unexpected: T, message: string): void {
  if (Object.is(actual, unexpected)) throw new AssertionError(`${message}: got ${show(actual)} again`)
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
