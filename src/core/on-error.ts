import type { SessionError } from '../errors.ts'

// What a store failure does to the request when the app says nothing (fail closed), and the
// ready-made alternative (fail open).

/**
 * An `onError` that serves the request anyway and logs what that cost: an empty session when
 * loading failed, the unsaved change when saving failed. For sites where a page without its
 * session beats an error page.
 */
export function failOpen(
  error: SessionError,
  request: Request,
  phase: 'load' | 'save' | 'unseal',
): undefined {
  const cost = phase === 'save' ? 'served without saving the session' : 'served with an empty session'
  console.error(`${describe(error, request)} (fail open: ${cost})`)
  return undefined
}

export function defaultOnError(
  error: SessionError,
  request: Request,
  phase: 'load' | 'save' | 'unseal',
): Response | undefined {
  if (error.code === 'SESSION_ENDED') {
    // Nothing is left to save or fail: the page is served as the handler made it, without a cookie.
    console.warn(`${describe(error, request)} (served without the change)`)
    return undefined
  }
  console.error(`${describe(error, request)} (${phase === 'unseal' ? 'read as no session' : 'fail closed'})`)
  const status = error.code === 'STORE_UNAVAILABLE' ? 503 : 500
  return new Response(status === 503 ? 'Service Unavailable' : 'Internal Server Error', {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  })
}

function describe(error: SessionError, request: Request): string {
  return `[dynamodb-session] ${request.method} ${new URL(request.url).pathname}: ${error.code}: ${error.message}`
}
