// The example's routes, on Hono: a counter, login with regenerate(), logout with a flash.
// handler.ts wires them to DynamoDB and Lambda; the tests wire them to DynamoDB Local.
import { Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { type SessionEnv, session } from '../../src/adapters/hono.ts'
import type { SessionOptions } from '../../src/index.ts'

export type Data = { count: number; user: string; message: string }

/** The app behind the Lambda handler; `options` are the session middleware's. */
export function createApp(options: SessionOptions): Hono<SessionEnv<Data>> {
  const app = new Hono<SessionEnv<Data>>()
  app.use(session<Data>(options))

  app.get('/', async (c) => {
    const current = c.get('session')
    const [count, user, message] = await Promise.all([
      current.get('count'),
      current.get('user'),
      current.get('message'),
    ])
    return c.json({ count: count ?? 0, user: user ?? null, message: message ?? null })
  })

  app.post('/count', async (c) => {
    const current = c.get('session')
    const count = ((await current.get('count')) ?? 0) + 1
    await current.set('count', count)
    return c.json({ count })
  })

  app.post('/login', async (c) => {
    const user = String((await c.req.parseBody()).user ?? '').trim()
    if (!user) return c.json({ error: 'user is required' }, 400)
    const current = c.get('session')
    await current.regenerate() // a new id on login: an id planted before it is worthless
    await current.setUser(user)
    await current.set('user', user)
    return c.json({ user })
  })

  app.post('/logout', async (c) => {
    const current = c.get('session')
    await current.destroy()
    await current.flash('message', 'Logged out')
    return c.redirect('/', 303)
  })

  /** A route with a cookie of its own, to show both Set-Cookie values reach the client. */
  app.post('/theme', async (c) => {
    setCookie(c, 'theme', 'dark', { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' })
    await c.get('session').set('message', 'Theme saved')
    return c.body(null, 204)
  })

  /** Never touches the session: no DynamoDB call, no Set-Cookie. */
  app.get('/health', (c) => c.text('ok'))

  return app
}
