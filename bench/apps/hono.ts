// The Hono apps under test: the same routes with this library's session middleware, and bare
// (no sessions at all), which every other system is measured against.
import { Hono } from 'hono'
import { type SessionEnv, type SessionOptions, session } from '../../src/adapters/hono.ts'
import type { Store } from '../../src/index.ts'
import { largeSession, profileSession, smallSession } from '../data.ts'

export const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'

/** The routes every app serves; see bench/workloads.ts for which workload sends what. */
export function sessionApp(store: Store, options: Partial<SessionOptions> = {}) {
  const app = new Hono<SessionEnv>()
  // Mounted for every route, as an app would: the routes that never use the session pay nothing.
  app.use(session({ secretKey: SECRET, store, cookie: { secure: false }, ...options }))
  let sequence = 0

  app.post('/seed', async (c) => {
    const data = smallSession(Number(c.req.query('i') ?? 0))
    for (const [key, value] of Object.entries(data)) await c.get('session').set(key, value)
    return c.text('seeded')
  })
  // A logged-in user's session: bound to the user, so the table's user index holds it too.
  app.post('/seed-user', async (c) => {
    const index = Number(c.req.query('i') ?? 0)
    await c.get('session').setUser(`user-${index}`)
    for (const [key, value] of Object.entries(smallSession(index))) await c.get('session').set(key, value)
    return c.text('seeded')
  })
  app.post('/seed-profile', async (c) => {
    const data = profileSession(Number(c.req.query('i') ?? 0))
    for (const [key, value] of Object.entries(data)) await c.get('session').set(key, value)
    return c.text('seeded')
  })
  app.post('/seed-large', async (c) => {
    const data = largeSession(Number(c.req.query('i') ?? 0))
    for (const [key, value] of Object.entries(data)) await c.get('session').set(key, value)
    return c.text('seeded')
  })
  app.get('/none', (c) => c.text('no session here'))
  app.get('/read', async (c) => c.text(`hello ${userName(await c.get('session').get('user'))}`))
  app.post('/write', async (c) => {
    const count = Number((await c.get('session').get('count')) ?? 0) + 1
    await c.get('session').set('count', count)
    return c.text(String(count))
  })
  // A write that needs no read: the value does not depend on what the session held.
  app.post('/blind', async (c) => {
    sequence += 1
    await c.get('session').set('seenAt', sequence)
    return c.text('noted')
  })
  app.get('/large/read', async (c) => {
    const history = (await c.get('session').get('history')) as unknown[] | undefined
    return c.text(`${history?.length ?? 0} items`)
  })
  app.post('/large/write', async (c) => {
    const count = Number((await c.get('session').get('count')) ?? 0) + 1
    await c.get('session').set('count', count)
    return c.text(String(count))
  })
  return app
}

/**
 * The same routes with no session middleware: the floor every ratio is taken against. With
 * `noopMiddleware`, one middleware that only awaits next(): the floor of any Hono middleware.
 */
export function bareApp({ noopMiddleware = false } = {}) {
  const app = new Hono()
  if (noopMiddleware) {
    app.use(async function noop(_c, next) {
      await next()
    })
  }
  app.post('/seed', (c) => c.text('seeded'))
  app.post('/seed-profile', (c) => c.text('seeded'))
  app.post('/seed-large', (c) => c.text('seeded'))
  app.get('/none', (c) => c.text('no session here'))
  app.get('/read', (c) => c.text('hello user-0'))
  app.post('/write', (c) => c.text('1'))
  app.post('/blind', (c) => c.text('noted'))
  app.get('/large/read', (c) => c.text('0 items'))
  app.post('/large/write', (c) => c.text('1'))
  return app
}

/** The small session's user is a name; the 1.2 KB one's is an object with one. */
function userName(user: unknown): unknown {
  return typeof user === 'object' && user !== null ? (user as { name?: unknown }).name : user
}
