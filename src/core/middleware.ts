import { createSessionManager } from './manager.ts'
import type { SessionOptions } from './options.ts'
import type { SessionData } from './session.ts'

/** A fetch handler that the middleware wraps. */
export type Next = (request: Request) => Response | Promise<Response>

/**
 * Session middleware for any fetch handler, Rack-style: `(request, next) => Response`.
 * The handler reads its session with `getSession(request)`.
 *
 * @example
 * const withSession = sessionMiddleware({ secretKey: process.env.SESSION_SECRET, store })
 * export default {
 *   fetch: (request: Request) =>
 *     withSession(request, async (request) => {
 *       const session = getSession<{ count: number }>(request)
 *       const count = ((await session.get('count')) ?? 0) + 1
 *       await session.set('count', count)
 *       return new Response(String(count))
 *     }),
 * }
 */
export function sessionMiddleware<Data extends SessionData = SessionData>(options: SessionOptions) {
  const manager = createSessionManager<Data>(options)
  return async function session(request: Request, next: Next): Promise<Response> {
    const session = await manager.open(request)
    let response: Response
    try {
      response = await next(request)
    } catch (error) {
      // A failed load that the handler let through: answered as onError chose.
      const response = manager.recover(session, error)
      if (response) return response
      throw error
    }
    return manager.commit(session, response, request)
  }
}
