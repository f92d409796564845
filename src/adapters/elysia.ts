import { Elysia, ElysiaCustomStatusResponse, StatusMap } from 'elysia'
import { createSessionManager } from '../core/manager.ts'
import type { SessionOptions } from '../core/options.ts'
import type { Session, SessionData } from '../core/session.ts'
import { commitDetached } from './detached-commit.ts'

/** Each plugin made by `session()` is its own instance: Elysia dedupes a plugin only by name and seed. */
let plugins = 0

/**
 * Elysia plugin: the lazy session as `session` in every handler's context, committed after the
 * handler. The session cookie goes through Elysia's own cookie jar, beside the handler's cookies,
 * or onto the Response itself when the handler returns one.
 *
 * @example
 * const app = new Elysia()
 *   .use(session<{ count: number }>({ secretKey: process.env.SESSION_SECRET, store }))
 *   .get('/', async ({ session }) => {
 *     const count = ((await session.get('count')) ?? 0) + 1
 *     await session.set('count', count)
 *     return String(count)
 *   })
 */
export function session<Data extends SessionData = SessionData>(options: SessionOptions) {
  const manager = createSessionManager<Data>(options)
  plugins += 1
  return (
    new Elysia({ name: 'dynamodb-session', seed: plugins })
      // No store I/O here: open() only verifies the cookie; the session loads on first use.
      .derive({ as: 'global' }, async ({ request }) => ({ session: await manager.open(request) }))
      // Runs only when the handler returned; a thrown error skips it, so nothing is saved.
      .onAfterHandle({ as: 'global' }, async ({ session, request, set, responseValue }) => {
        // A Response the handler built gets the cookie itself: Elysia drops its jar's cookies
        // when they are two or more and the Response has a Set-Cookie of its own.
        if (responseValue instanceof Response) {
          const response = await manager.commit(session, responseValue, request)
          return response === responseValue ? undefined : response
        }
        const result = await commitDetached(manager, session, request, statusOf(responseValue, set.status))
        if (result.failure) return result.failure
        for (const { name, value, ...attributes } of result.cookies) {
          set.cookie ??= {}
          set.cookie[name] = { ...attributes, value: value ?? '' }
        }
        return undefined
      })
      // A failed load the handler let through: answered as onError chose, like the fetch middleware.
      .onError({ as: 'global' }, (context) => {
        const current = (context as { session?: Session<Data> }).session
        return current ? manager.recover(current, context.error) : undefined
      })
  )
}

/** The status the client will see: status()'s own, else `set.status`. */
function statusOf(value: unknown, status: number | string | undefined): number {
  if (value instanceof ElysiaCustomStatusResponse && typeof value.code === 'number') return value.code
  if (typeof status === 'string') return StatusMap[status as keyof typeof StatusMap] ?? 200
  return status ?? 200
}

export type { Session, SessionData, SessionOptions }
