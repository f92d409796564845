// The `npm start` demo, started as the tests' own server on a free port over embedded dynalite,
// and driven over real HTTP like a browser that keeps cookies and does not follow redirects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Demo, startDemo } from '../examples/node/server.ts'
import { hashSessionId } from '../src/core/crypto.ts'

/** A browser's cookie jar, as small as it can be: name → value, expired cookies removed. */
function browser(base: string) {
  const jar = new Map<string, string>()
  return {
    jar,
    async request(path: string, init: RequestInit = {}) {
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
      const response = await fetch(`${base}${path}`, {
        ...init,
        redirect: 'manual',
        headers: { ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string> | undefined) },
      })
      const setCookies = response.headers.getSetCookie()
      for (const header of setCookies) {
        const [pair = '', ...attributes] = header.split(';').map((part) => part.trim())
        const equals = pair.indexOf('=')
        const name = pair.slice(0, equals)
        const value = pair.slice(equals + 1)
        if (isExpired(attributes)) jar.delete(name)
        else jar.set(name, value)
      }
      return { response, setCookies, body: await response.text() }
    },
    post(path: string, form: Record<string, string> = {}) {
      return this.request(path, { method: 'POST', body: new URLSearchParams(form) })
    },
  }
}

function isExpired(attributes: string[]): boolean {
  for (const attribute of attributes) {
    const [key = '', value = ''] = attribute.split(/=(.*)/)
    if (key.toLowerCase() === 'max-age' && Number(value) <= 0) return true
    if (key.toLowerCase() === 'expires' && Date.parse(value) <= Date.now()) return true
  }
  return false
}

const visits = (body: string) => /id="visits">(\d+)</.exec(body)?.[1]
const user = (body: string) => /id="user">([^<]+)</.exec(body)?.[1]
const notice = (body: string) => /class="notice"[^>]*>([^<]+)</.exec(body)?.[1]
const field = (body: string, id: string) => new RegExp(`id="${id}">([^<]+)<`).exec(body)?.[1]
/** The session id inside a signed cookie value `id.signature`. */
const idOf = (cookie: string | undefined) => cookie?.split('.')[0] ?? ''

describe('the npm start demo, over HTTP', () => {
  let demo: Demo
  beforeAll(async () => {
    demo = await startDemo({ port: 0 })
  })
  afterAll(() => demo?.close())

  it('listens on 127.0.0.1, on the free port it was given', () => {
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(demo.url).not.toBe('http://127.0.0.1:0')
  })

  it('counts visits per browser, with a plain-HTTP session cookie', async () => {
    const alice = browser(demo.url)
    const first = await alice.request('/')
    expect(first.response.status).toBe(200)
    expect(visits(first.body)).toBe('1')
    expect(first.setCookies).toHaveLength(1)
    expect(first.setCookies[0]).toMatch(/^sid=[\w-]{43}\.[\w-]{43}; /)
    expect(first.setCookies[0]).toMatch(/HttpOnly/i)
    expect(first.setCookies[0]).not.toMatch(/Secure/i) // else no browser would send it back over http://
    expect(first.response.headers.get('cache-control')).toBe('no-store')
    expect(visits((await alice.request('/')).body)).toBe('2')
    expect(visits((await alice.request('/')).body)).toBe('3')

    const stranger = browser(demo.url)
    expect(visits((await stranger.request('/')).body)).toBe('1')
    expect(visits((await alice.request('/')).body)).toBe('4')
  })

  it('logs in under a new session id, with a welcome shown exactly once, every name escaped', async () => {
    const ada = browser(demo.url)
    await ada.request('/')
    const before = ada.jar.get('sid')
    expect(before).toBeDefined()

    const login = await ada.post('/login', { name: 'Ada <script>alert(1)</script>' })
    expect(login.response.status).toBe(303)
    expect(login.response.headers.get('location')).toBe('/')
    expect(login.setCookies).toHaveLength(1)
    const after = ada.jar.get('sid')
    expect(after).toBeDefined()
    expect(idOf(after)).not.toBe(idOf(before))

    const home = await ada.request('/')
    expect(user(home.body)).toBe('Ada &lt;script&gt;alert(1)&lt;/script&gt;')
    expect(notice(home.body)).toBe('Welcome, Ada &lt;script&gt;alert(1)&lt;/script&gt;!')
    expect(home.body).not.toContain('<script>')
    expect(visits(home.body)).toBe('2') // regenerate() moved the data along
    const next = await ada.request('/')
    expect(notice(next.body)).toBeUndefined()
    expect(user(next.body)).toBe('Ada &lt;script&gt;alert(1)&lt;/script&gt;')

    // The pre-login cookie, sent alone: its session was deleted, so it signs nobody in.
    const planted = browser(demo.url)
    planted.jar.set('sid', before ?? '')
    const replay = await planted.request('/')
    expect(user(replay.body)).toBeUndefined()
    expect(visits(replay.body)).toBe('1')
  })

  it('refuses an empty name, saying why', async () => {
    const blank = browser(demo.url)
    const login = await blank.post('/login', { name: '   ' })
    expect(login.response.status).toBe(303)
    const home = await blank.request('/')
    expect(user(home.body)).toBeUndefined()
    expect(notice(home.body)).toBe('Please enter a name.')
  })

  it('logs out for good: the user is gone, and the old cookie no longer signs anyone in', async () => {
    const bob = browser(demo.url)
    await bob.post('/login', { name: 'Bob' })
    const loggedIn = bob.jar.get('sid')
    expect(user((await bob.request('/')).body)).toBe('Bob')

    const logout = await bob.post('/logout')
    expect(logout.response.status).toBe(303)
    expect(logout.response.headers.get('location')).toBe('/')
    // The logged-in cookie is replaced: destroy() deleted its session, the flash started a new one.
    expect(idOf(bob.jar.get('sid'))).not.toBe(idOf(loggedIn))

    const home = await bob.request('/')
    expect(user(home.body)).toBeUndefined()
    expect(notice(home.body)).toBe('You are logged out.')
    expect(visits(home.body)).toBe('1')
    expect(notice((await bob.request('/')).body)).toBeUndefined()

    const replay = browser(demo.url)
    replay.jar.set('sid', loggedIn ?? '')
    expect(user((await replay.request('/')).body)).toBeUndefined()
  })

  it('shows the hashed key of the session, never its id, and whether it is stored', async () => {
    const carol = browser(demo.url)
    await carol.request('/')
    const cookie = carol.jar.get('sid')
    const { body, setCookies } = await carol.request('/session')
    expect(setCookies).toEqual([]) // reading costs no write
    const key = field(body, 'key')
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(key).toBe(await hashSessionId(idOf(cookie)))
    expect(cookie).not.toContain(key)
    expect(body).not.toContain(idOf(cookie))
    expect(field(body, 'stored')).toBe('yes')
    expect(field(body, 'values')).toBe('{&quot;visits&quot;:1}')

    const fresh = await browser(demo.url).request('/session')
    expect(field(fresh.body, 'stored')).toBe('no')
    expect(fresh.setCookies).toEqual([]) // an empty session is not saved
  })
})
