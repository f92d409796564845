// The example app: a counter, login and logout with a flash message, as a React Router
// (framework mode) app would write its route modules, with the session middleware on the root.
import { createElement as h } from 'react'
import {
  type ActionFunctionArgs,
  type LoaderFunctionArgs,
  Outlet,
  type RouterContextProvider,
  redirect,
  type ServerBuild,
  useLoaderData,
} from 'react-router'
import {
  type Session,
  type SessionOptions,
  sessionContext,
  sessionMiddleware,
} from '../../src/adapters/react-router.ts'
import { type RouteModule, serverBuild } from './build.ts'

type Data = { count: number; user: string; message: string }

/** What loaders and actions call: the request's session, typed. */
const sessionOf = (context: Readonly<RouterContextProvider>) => context.get(sessionContext) as Session<Data>

/** app/root.tsx */
const root = (options: SessionOptions) => ({
  middleware: [sessionMiddleware<Data>(options)],
  default: () => h('html', null, h('body', null, h(Outlet))),
})

/** app/routes/home.tsx: reads the count, the user and a flash message (gone once shown). */
const home: RouteModule = {
  index: true,
  loader: async ({ context }: LoaderFunctionArgs<RouterContextProvider>) => {
    const session = sessionOf(context)
    return {
      count: (await session.get('count')) ?? 0,
      user: (await session.get('user')) ?? null,
      message: (await session.get('message')) ?? null,
    }
  },
  default: function Home() {
    const { count, user, message } = useLoaderData() as {
      count: number
      user: string | null
      message: string | null
    }
    return h(
      'main',
      null,
      message && h('p', { role: 'status' }, message),
      h('p', null, user ? `Signed in as ${user}` : 'Not signed in'),
      h('p', null, `Count: ${count}`),
      h('form', { method: 'post', action: '/count' }, h('button', { type: 'submit' }, 'Count')),
      user
        ? h('form', { method: 'post', action: '/logout' }, h('button', { type: 'submit' }, 'Log out'))
        : h(
            'form',
            { method: 'post', action: '/login' },
            h('input', { name: 'user', 'aria-label': 'user name' }),
            h('button', { type: 'submit' }, 'Log in'),
          ),
    )
  },
}

/** app/routes/count.ts */
const count: RouteModule = {
  path: 'count',
  action: async ({ context }: LoaderFunctionArgs<RouterContextProvider>) => {
    const session = sessionOf(context)
    await session.set('count', ((await session.get('count')) ?? 0) + 1)
    return redirect('/')
  },
}

/** app/routes/login.ts: a new id on login, so an id planted before it is worthless. */
const login: RouteModule = {
  path: 'login',
  action: async ({ request, context }: ActionFunctionArgs<RouterContextProvider>) => {
    const user = String((await request.formData()).get('user') ?? '').trim()
    if (!user) return redirect('/')
    const session = sessionOf(context)
    await session.regenerate()
    await session.setUser(user)
    await session.set('user', user)
    await session.flash('message', `Welcome, ${user}`)
    return redirect('/')
  },
}

/** app/routes/logout.ts: the session is deleted; the flash starts a new, anonymous one. */
const logout: RouteModule = {
  path: 'logout',
  action: async ({ context }: LoaderFunctionArgs<RouterContextProvider>) => {
    const session = sessionOf(context)
    await session.destroy()
    await session.flash('message', 'Logged out')
    return redirect('/')
  },
}

/** The app's server build, as `react-router build` would emit it. */
export function createApp(options: SessionOptions): ServerBuild {
  return serverBuild({ home, count, login, logout }, root(options))
}
