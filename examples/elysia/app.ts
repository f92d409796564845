// The Elysia example's app: a visit counter with log in and log out, the session on every
// handler's context. server.ts serves it on Bun; a user's own app imports from 'dynamodb-session'
// and 'dynamodb-session/elysia' instead of ../../src.
import { Elysia, redirect, t } from 'elysia'
import { session } from '../../src/adapters/elysia.ts'
import type { Store } from '../../src/index.ts'

type Data = { visits: number; notice: string }

export function createApp(options: { store: Store; secretKey: string; secure: boolean }) {
  return (
    new Elysia()
      .use(
        session<Data>({
          secretKey: options.secretKey,
          store: options.store,
          cookie: { secure: options.secure },
        }),
      )
      .get('/', async ({ session }) => {
        const visits = ((await session.get('visits')) ?? 0) + 1
        await session.set('visits', visits)
        return {
          visits,
          user: (await session.getUser()) ?? null,
          notice: (await session.get('notice')) ?? null,
        }
      })
      // Reads only: nothing changed, so no write and no Set-Cookie.
      .get('/me', async ({ session }) => ({ user: (await session.getUser()) ?? null }))
      // Never touches the session: no DynamoDB call at all.
      .get('/health', () => 'ok')
      .post(
        '/login',
        async ({ session, body }) => {
          // A new id on log in, so an id planted before it (session fixation) is worth nothing.
          await session.regenerate()
          await session.setUser(body.name)
          await session.flash('notice', `Welcome, ${body.name}!`)
          return redirect('/', 303)
        },
        { body: t.Object({ name: t.String({ minLength: 1 }) }) },
      )
      .post('/logout', async ({ session }) => {
        await session.destroy()
        return redirect('/', 303)
      })
  )
}
