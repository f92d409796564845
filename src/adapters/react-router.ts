import { createContext, type MiddlewareFunction, type RouterContext } from 'react-router'
import { createSessionManager } from '../core/manager.ts'
import { runWithSession } from '../core/middleware.ts'
import type { SessionOptions } from '../core/options.ts'
import type { Session, SessionData } from '../core/session.ts'

/**
 * The request's session in React Router's context: `context.get(sessionContext)` in a loader,
 * action or later middleware, once `sessionMiddleware` runs on the root route. Reading it costs
 * nothing; the session loads on its first `get` or `set`.
 *
 * @example
 * export async function loader({ context }: Route.LoaderArgs) {
 *   const session = context.get(sessionContext) as Session<{ count: number }>
 *   return { count: (await session.get('count')) ?? 0 }
 * }
 */
export const sessionContext: RouterContext<Session> = createContext<Session>()

/**
 * React Router middleware (7.9+ with `future.v8_middleware`, and 8): the same session as the core
 * `sessionMiddleware`, with the same options, given to loaders and actions through
 * `sessionContext`. The session is saved, and its cookie set, once, after the whole chain, and
 * only when something changed; never for a 5xx.
 *
 * @example
 * // app/root.tsx
 * export const middleware: Route.MiddlewareFunction[] = [
 *   sessionMiddleware({ secretKey: process.env.SESSION_SECRET, store }),
 * ]
 */
export function sessionMiddleware<Data extends SessionData = SessionData>(
  options: SessionOptions,
): MiddlewareFunction<Response> {
  const manager = createSessionManager<Data>(options)
  return function session({ request, context }, next) {
    return runWithSession(manager, request, (current) => {
      context.set(sessionContext, current as Session)
      return next()
    })
  }
}

export {
  createDynamoDBSessionStorage,
  type DynamoDBSessionStorageOptions,
  type StorageCookieOptions,
} from './react-router-storage.ts'
export type { Session, SessionData, SessionOptions }
