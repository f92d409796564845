// The demo app of examples/node/server.ts as a plain fetch handler, with no framework and no
// Node API: a visit counter, login and logout (with regenerate), a flash message, and a page
// showing the table's key for this session. The Workers (index.ts), Deno (../deno/server.ts)
// and Bun (../bun/server.ts) examples all serve it.
import { type DynamoDBStore, getSession, hashSessionId, sessionMiddleware } from '../../src/index.ts'

type Data = { visits: number; user: string; notice: string }

export interface AppOptions {
  store: DynamoDBStore
  /** At least 32 characters, e.g. from `openssl rand -base64 32`. */
  secretKey: string
  /** Browsers drop Secure cookies on plain http:// (localhost aside): false only for local HTTP. */
  secure: boolean
}

/** The app's fetch handler: `(request) => Response`, as Deno.serve, Bun.serve and Workers take it. */
export function createApp({ store, secretKey, secure }: AppOptions): (request: Request) => Promise<Response> {
  const withSession = sessionMiddleware<Data>({ secretKey, store, cookie: { secure } })
  return (request) => withSession(request, (request) => route(request, store))
}

async function route(request: Request, store: DynamoDBStore): Promise<Response> {
  const session = getSession<Data>(request)
  const { pathname } = new URL(request.url)
  if (request.method === 'GET' && pathname === '/') {
    const visits = ((await session.get('visits')) ?? 0) + 1
    await session.set('visits', visits)
    const user = await session.get('user')
    const notice = await session.get('notice') // a flash value: shown once, then gone
    return page(
      'Home',
      `${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ''}
      <p>Visits in this session: <strong id="visits">${visits}</strong></p>
      ${
        user
          ? `<p>Logged in as <strong id="user">${escapeHtml(user)}</strong>.</p>
        <form method="post" action="/logout"><button type="submit">Log out</button></form>`
          : `<form method="post" action="/login">
        <label for="name">Your name</label>
        <input id="name" name="name" required maxlength="40" autocomplete="username">
        <button type="submit">Log in</button>
      </form>`
      }
      <p><a href="/session">What does the table hold for this session?</a></p>`,
    )
  }
  // Plain form posts are safe from cross-site forgery: the cookie is SameSite=Lax (the default).
  if (request.method === 'POST' && pathname === '/login') {
    const form = await request.formData()
    const name = String(form.get('name') ?? '')
      .trim()
      .slice(0, 40)
    if (!name) {
      await session.flash('notice', 'Please enter a name.')
      return redirect('/')
    }
    await session.set('user', name)
    // Privileges change: a new session id, and the old one deleted, so a planted id is worthless.
    await session.regenerate()
    await session.flash('notice', `Welcome, ${name}!`)
    return redirect('/')
  }
  if (request.method === 'POST' && pathname === '/logout') {
    // Deletes the stored session; the flash then starts a new one that carries the message.
    await session.destroy()
    await session.flash('notice', 'You are logged out.')
    return redirect('/')
  }
  if (request.method === 'GET' && pathname === '/session') {
    const values = await session.all() // loads the session, so session.id is the live one
    const key = await hashSessionId(session.id)
    const stored = (await store.load(key)) !== undefined
    return page(
      'Stored session',
      `<p>The table keys each session by the SHA-256 of its id, never by the id itself. This browser's key:</p>
      <p><code id="key">${key}</code></p>
      <p>Stored in the table: <strong id="stored">${stored ? 'yes' : 'no'}</strong></p>
      <p>Values: <code id="values">${escapeHtml(JSON.stringify(values))}</code></p>
      <p><a href="/">Back</a></p>`,
    )
  }
  return new Response('Not Found', { status: 404 })
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } })
}

/** Every page shows this visitor's session: no shared cache may keep it. */
function page(title: string, body: string): Response {
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(title)} · dynamodb-session demo</title>
    <style>
      body { font: 1rem/1.5 system-ui, sans-serif; max-width: 38rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
      .notice { background: #e7f5e9; border-left: 4px solid #2e7d32; padding: .5rem 1rem; }
      label { display: block; font-weight: 600; }
      input, button { font: inherit; padding: .25rem .5rem; }
      a { color: #1565c0; }
      code { word-break: break-all; }
    </style>
  </head>
  <body>
    <main>
      <h1>dynamodb-session demo</h1>
      ${body}
    </main>
  </body>
</html>`
  return new Response(html, {
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  })
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character)
}
