import type { APIContext, MiddlewareNext } from 'astro'
import { createSessionManager } from '../core/manager.ts'
import { runWithSession } from '../core/middleware.ts'
import type { SessionOptions } from '../core/options.ts'
import type { Session, SessionData } from '../core/session.ts'

/**
 * What the middleware adds to `context.locals`. Declare it on `App.Locals` in `src/env.d.ts`,
 * so that `Astro.locals.session` and `context.locals.session` are typed in pages, endpoints and
 * actions:
 *
 * @example
 * // src/env.d.ts (a script file: no top-level import or export, so App stays global)
 * declare namespace App {
 *   interface Locals {
 *     session: import('dynamodb-session/astro').Session<{ user: string; visits: number }>
 *   }
 * }
 */
export interface SessionLocals<Data extends SessionData = SessionData> {
  session: Session<Data>
}

/** An Astro `MiddlewareHandler` that always answers a Response, so a wrapper can await it. */
export type SessionMiddleware = (context: APIContext, next: MiddlewareNext) => Promise<Response>

/**
 * An Astro middleware (`onRequest`) for on-demand rendered routes: puts the lazy session on
 * `context.locals.session` for pages, endpoints and actions, and after `next()` saves what changed
 * and adds the session cookie to the response. Combine it with other middleware through
 * `sequence()` from `astro:middleware`; put it before those that read the session. Prerendered
 * pages are built once for every visitor, so they get no session; Astro still loads this file to
 * build them, so with prerendered pages either give the build the secret too, or call session()
 * on the first on-demand request (see docs/astro.md).
 *
 * @example
 * // src/middleware.ts
 * import { getSecret } from 'astro:env/server'
 * import { DynamoDBStore } from 'dynamodb-session'
 * import { session } from 'dynamodb-session/astro'
 *
 * export const onRequest = session({
 *   secretKey: getSecret('SESSION_SECRET') ?? '',
 *   store: new DynamoDBStore({ tableName: 'sessions' }),
 * })
 *
 * // src/pages/index.astro
 * // const visits = ((await Astro.locals.session.get('visits')) ?? 0) + 1
 * // await Astro.locals.session.set('visits', visits)
 */
export function session<Data extends SessionData = SessionData>(options: SessionOptions): SessionMiddleware {
  const manager = createSessionManager<Data>(options)
  return async function session(context, next) {
    // At build time there is no visitor, and reading the request's headers would only draw a warning.
    if (context.isPrerendered) return next()
    // A page, endpoint or action that let this session's failed load escape: onError answers.
    // Astro adds the cookies set through Astro.cookies to whatever response this returns.
    return runWithSession(manager, context.request, (current) => {
      // App.Locals is the application's to declare (see SessionLocals), so it is not typed here.
      ;(context.locals as SessionLocals<Data>).session = current
      return next()
    })
  }
}

export type { Session, SessionData, SessionOptions }
