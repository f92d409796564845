import { cookies } from 'next/headers'
import type { NextRequest } from 'next/server'
import { cache } from 'react'
import { createSessionManager, type SessionManager } from '../core/manager.ts'
import type { SessionOptions } from '../core/options.ts'
import type { Session, SessionData } from '../core/session.ts'
import { commitDetached } from './detached-commit.ts'

/** What a Server Component may do with its session: read. */
export type ReadonlySession<Data extends SessionData = SessionData> = Pick<
  Session<Data>,
  'get' | 'has' | 'all' | 'getUser'
>

/** The second argument of a Route Handler, with the request's session added. */
export type RouteContextWithSession<Context, Data extends SessionData> = Context & { session: Session<Data> }

/** Next's own second argument of a Route Handler: the dynamic segments of its path. */
export type DefaultRouteContext = { params: Promise<Record<string, string | string[] | undefined>> }

export interface NextSession<Data extends SessionData> {
  /**
   * Wraps an App Router Route Handler: the session comes as `context.session` (and from
   * `getSession(request)`), and what the handler changed is saved after it returns, its cookie
   * added to the response. A `redirect()` thrown from the handler is committed too.
   */
  withSession<Context extends object = DefaultRouteContext>(
    handler: (
      request: NextRequest,
      context: RouteContextWithSession<Context, Data>,
    ) => Response | Promise<Response>,
  ): (request: NextRequest, context: Context) => Promise<Response>
  /**
   * Wraps a Server Action: it gets the session as its first argument, and when it ends (returns
   * or calls `redirect()`) the session is saved once and its cookie set through `cookies()`.
   * An action that throws saves nothing.
   */
  action<Args extends unknown[], Result>(
    action: (session: Session<Data>, ...args: Args) => Promise<Result>,
  ): (...args: Args) => Promise<Result>
  /**
   * The session for Server Components, which cannot set cookies: read-only, never saved, read
   * from the store at most once per render however many components ask.
   */
  readSession(): Promise<ReadonlySession<Data>>
}

/**
 * Sessions for the Next.js App Router: Route Handlers, Server Actions and Server Components.
 * Pass the options as a function to build them on first use, so that `next build`, which imports
 * your routes, needs neither the secret nor the table.
 *
 * @example
 * // lib/session.ts
 * export const session = nextSession<{ visits: number }>(() => ({
 *   secretKey: process.env.SESSION_SECRET ?? '',
 *   store: new DynamoDBStore({ tableName: 'sessions' }),
 * }))
 * // app/api/visits/route.ts
 * export const GET = session.withSession(async (request, { session }) => {
 *   const visits = ((await session.get('visits')) ?? 0) + 1
 *   await session.set('visits', visits)
 *   return Response.json({ visits })
 * })
 */
export function nextSession<Data extends SessionData = SessionData>(
  options: SessionOptions | (() => SessionOptions),
): NextSession<Data> {
  let created: SessionManager<Data> | undefined
  const manager = (): SessionManager<Data> => {
    created ??= createSessionManager<Data>(typeof options === 'function' ? options() : options)
    return created
  }
  if (typeof options !== 'function') manager() // validated now, as every other adapter does

  /** Saves through cookies() when Next, not the handler, builds the response. */
  const commitThroughCookies = async (session: Session<Data>, request: Request, status: number) => {
    const result = await commitDetached(manager(), session, request, status)
    if (result.failure) {
      throw new Error(
        `dynamodb-session: the session store failed and onError answered ${result.failure.status} ` +
          '(fail closed), so nothing was saved; the error was logged or handled by onError.',
      )
    }
    const cookieStore = await cookies()
    for (const { name, value, ...attributes } of result.cookies) {
      cookieStore.set({ ...attributes, name, value: value ?? '' })
    }
  }

  return {
    withSession(handler) {
      return async function routeWithSession(request, context) {
        const session = await manager().open(request)
        let response: Response
        try {
          response = await handler(request, { ...context, session })
        } catch (error) {
          const recovered = manager().recover(session, error)
          if (recovered) return recovered
          // Next answers a thrown redirect() itself, adding what cookies() set to its response.
          if (isRedirect(error)) await commitThroughCookies(session, request, 307)
          throw error
        }
        return manager().commit(session, response, request)
      }
    },

    action(action) {
      return async function actionWithSession(...args) {
        const request = await requestFromCookies('POST')
        const session = await manager().open(request)
        let result: Awaited<ReturnType<typeof action>>
        try {
          result = await action(session, ...args)
        } catch (error) {
          // redirect() ends an action by throwing; Next then answers 303 with the cookies set here.
          if (isRedirect(error)) await commitThroughCookies(session, request, 303)
          throw error
        }
        await commitThroughCookies(session, request, 200)
        return result
      }
    },

    // cache(): one session, and one store read, per Server Component render.
    readSession: cache(async function readSession() {
      // cookies() first: while `next build` prerenders, it marks the page dynamic before any option is needed.
      const request = await requestFromCookies('GET')
      return readOnly(await manager().open(request))
    }),
  }
}

/**
 * A stand-in Request carrying the cookies Next sees now. cookies(), unlike headers(), includes
 * what a Server Action set earlier in this request, so the page rendered after it reads the new session.
 */
async function requestFromCookies(method: string): Promise<Request> {
  const cookieStore = await cookies()
  const header = cookieStore
    .getAll()
    .map(({ name, value }) => `${name}=${encodeURIComponent(value)}`)
    .join('; ')
  return new Request('http://localhost/', { method, headers: header ? { cookie: header } : {} })
}

function readOnly<Data extends SessionData>(session: Session<Data>): ReadonlySession<Data> {
  return Object.freeze({
    get: (key) => session.get(key),
    has: (key) => session.has(key),
    all: () => session.all(),
    getUser: () => session.getUser(),
  } satisfies ReadonlySession<Data>)
}

/** Next's redirect() throws an error whose digest starts with NEXT_REDIRECT (next/dist/client/components/redirect-error). */
function isRedirect(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'digest' in error &&
    typeof error.digest === 'string' &&
    error.digest.startsWith('NEXT_REDIRECT;')
  )
}

export type { Session, SessionData, SessionOptions }
