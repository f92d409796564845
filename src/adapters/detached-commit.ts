import { parseSetCookie, type SetCookie } from 'cookie'
import type { SessionManager } from '../core/manager.ts'
import type { Session, SessionData } from '../core/session.ts'

/** What a framework must do after a detached commit: send these cookies, or send `failure` instead. */
export type DetachedCommit = { cookies: SetCookie[]; failure?: undefined } | { failure: Response }

/**
 * Commits a session when the framework, not the handler, builds the response (Next.js Server
 * Actions, Elysia's hooks): the core decides on a stand-in response with the handler's status,
 * and the Set-Cookie values it chose come back parsed, for the framework's own cookie API.
 * When the store failed and `onError` answered (fail closed), that answer comes back instead.
 *
 * @example
 * const result = await commitDetached(manager, session, request, 200)
 * if (result.failure) return result.failure
 * for (const cookie of result.cookies) cookieStore.set(cookie)
 */
export async function commitDetached<Data extends SessionData>(
  manager: SessionManager<Data>,
  session: Session<Data>,
  request: Request,
  status: number,
): Promise<DetachedCommit> {
  const standIn = new Response(null, { status: statusForResponse(status) })
  const committed = await manager.commit(session, standIn, request)
  // commit() appends to the stand-in; any other response is the one onError chose.
  if (committed !== standIn) return { failure: committed }
  return { cookies: committed.headers.getSetCookie().map((line) => parseSetCookie(line)) }
}

/** `Response` accepts 200 to 599 only; an informational or odd status is saved like a 200. */
function statusForResponse(status: number): number {
  return Number.isInteger(status) && status >= 200 && status <= 599 ? status : 200
}
