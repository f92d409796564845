// src/adapters/ binds the framework-free core to each framework, one small file per framework
// over createSessionManager's open/commit/recover. Adapters import src/core/, src/store/ and
// src/errors.ts; the framework itself is an optional peer dependency, imported by its adapter only.

import type { Context, MiddlewareHandler } from 'hono'
import { createSessionManager } from '../core/manager.ts'
import type { SessionOptions } from '../core/options.ts'
import type { Session, SessionData } from '../core/session.ts'

export type SessionEnv<Data extends SessionData = SessionData> = { Variables: { session: Session<Data> } }

/**
 * Hono middleware: the same session as `sessionMiddleware`, available as `c.get('session')`.
 *
 * @example
 * const app = new Hono<SessionEnv<{ count: number }>>()
 * app.use(session({ secretKey: process.env.SESSION_SECRET, store }))
 * app.get('/', async (c) => {
 *   const count = ((await c.get('session').get('count')) ?? 0) + 1
 *   await c.get('session').set('count', count)
 *   return c.text(String(count))
 * })
 */
export function session<Data extends SessionData = SessionData>(
  options: SessionOptions,
): MiddlewareHandler<SessionEnv<Data>> {
  const manager = createSessionManager<Data>(options)
  return async function session(c, next) {
    const request = c.req.raw
    const current = await manager.open(request)
    c.set('session', current)
    await next()
    // Hono has already turned a thrown error into a response; commit() swaps in onError's response
    // when the error was a failed load.
    const response = await manager.commit(current, c.res, request)
    if (response !== c.res) replaceResponse(c, response)
  }
}

/** Setting c.res merges the old response's headers into the new one; clearing it first does not. */
function replaceResponse(c: Context, response: Response): void {
  c.res = undefined
  c.res = response
}

export type { Session, SessionData, SessionOptions }
