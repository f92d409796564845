import type { Handle } from '@sveltejs/kit'
import { createSessionManager } from '../core/manager.ts'
import { runWithSession } from '../core/middleware.ts'
import type { SessionOptions } from '../core/options.ts'
import type { Session, SessionData } from '../core/session.ts'

/**
 * What the handle adds to `event.locals`. Declare it on `App.Locals` in `src/app.d.ts`, so that
 * `locals.session` is typed in every load function, action and endpoint:
 *
 * @example
 * // src/app.d.ts
 * import type { SessionLocals } from 'dynamodb-session/sveltekit'
 * declare global {
 *   namespace App {
 *     interface Locals extends SessionLocals<{ user: string; visits: number }> {}
 *   }
 * }
 * export {}
 */
export interface SessionLocals<Data extends SessionData = SessionData> {
  session: Session<Data>
}

/**
 * A SvelteKit `Handle` for `src/hooks.server.ts`: puts the lazy session on `event.locals.session`,
 * and after `resolve(event)` saves what changed and adds the session cookie to the response.
 * Compose it with other handles through `sequence()` from `@sveltejs/kit/hooks`; put it before
 * the handles that read the session.
 *
 * @example
 * // src/hooks.server.ts
 * import { DynamoDBStore } from 'dynamodb-session'
 * import { session } from 'dynamodb-session/sveltekit'
 * import { env } from '$env/dynamic/private'
 *
 * export const handle = session({
 *   secretKey: env.SESSION_SECRET,
 *   store: new DynamoDBStore({ tableName: 'sessions' }),
 * })
 *
 * // src/routes/+page.server.ts
 * export const load = async ({ locals }) => {
 *   const visits = ((await locals.session.get('visits')) ?? 0) + 1
 *   await locals.session.set('visits', visits)
 *   return { visits }
 * }
 */
export function session<Data extends SessionData = SessionData>(options: SessionOptions): Handle {
  const manager = createSessionManager<Data>(options)
  return async function session({ event, resolve }) {
    // Kit renders errors of load functions and actions itself; what reaches here escaped a
    // handle after this one, and if it is this session's failed load, onError answers.
    return runWithSession(manager, event.request, (current) => {
      // App.Locals is the application's to declare (see SessionLocals), so it is not typed here.
      ;(event.locals as SessionLocals<Data>).session = current
      return resolve(event)
    })
  }
}

export type { Session, SessionData, SessionOptions }
