// A plain fetch handler (no framework) on Lambda: Hono's handle() does the event conversion,
// and a one-route Hono app hands each Request to the fetch handler as it is.
import { Hono } from 'hono'
import { handle } from 'hono/aws-lambda'
import { getSession, type SessionOptions, sessionMiddleware } from '../../src/index.ts'

/** Any `(request) => Response` handler, here a visit counter using the core middleware. */
export function createFetchHandler(options: SessionOptions): (request: Request) => Promise<Response> {
  const withSession = sessionMiddleware<{ count: number }>(options)
  return (request) =>
    withSession(request, async (request) => {
      const session = getSession<{ count: number }>(request)
      if (new URL(request.url).pathname !== '/count') return new Response('not found', { status: 404 })
      const count = ((await session.get('count')) ?? 0) + 1
      await session.set('count', count)
      return Response.json({ count })
    })
}

/** Wraps any fetch handler for Lambda: the whole adapter is these three lines. */
export function lambdaHandler(fetchHandler: (request: Request) => Response | Promise<Response>) {
  return handle(new Hono().all('*', (c) => fetchHandler(c.req.raw)))
}
