import { createSessionManager, type SessionManager } from './manager.ts'
import type { SessionOptions } from './options.ts'
import type { Session, SessionData } from './session.ts'

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
  return function session(request: Request, next: Next): Promise<Response> {
    return runWithSession(manager, request, () => next(request))
  }
}

/**
 * One request through the session, for the fetch middleware and every adapter whose framework
 * hands over a Request and awaits a Response: opens the session, runs `handler` with it, and
 * commits after it. A failed load that the handler let through is answered as onError chose.
 */
export async function runWithSession<Data extends SessionData>(
  manager: SessionManager<Data>,
  request: Request,
  handler: (session: Session<Data>) => Response | Promise<Response>,
): Promise<Response> {
  const session = await manager.open(request)
  let response: Response
  try {
    response = await handler(session)
  } catch (error) {
    const recovered = manager.recover(session, error)
    if (recovered) return recovered
    throw error
  }
  return manager.commit(session, response, request)
}
