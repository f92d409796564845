// The session middleware on a MemoryStore, for the micro-benchmarks: only the middleware's own
// work is measured, with no I/O.
import { getSession, MemoryStore, sessionMiddleware } from '../../src/index.ts'
import { SECRET } from '../apps/hono.ts'

/** A middleware on MemoryStore with one stored session holding `data`, and that session's cookie. */
export async function memoryMiddleware(data: Record<string, unknown>, encrypt = false) {
  const withSession = sessionMiddleware({
    secretKey: SECRET,
    store: new MemoryStore(),
    cookie: { secure: false },
    encrypt,
  })
  const seeded = await withSession(new Request('http://bench/seed'), async (request) => {
    for (const [name, value] of Object.entries(data)) await getSession(request).set(name, value)
    return new Response('ok')
  })
  const cookie = seeded.headers.getSetCookie()[0]?.split(';')[0] ?? ''
  return { withSession, cookie }
}
