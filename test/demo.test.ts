import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemo } from '../examples/node/server.ts'

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
        headers: { ...(cookie ? { cookie } : {}), ...(init.headers as Record<string, string>) },
      })
      for (const header of response.headers.getSetCookie()) {
        const [pair = ''] = header.split(';')
        const [name = '', value = ''] = pair.split('=')
        if (/Max-Age=0/i.test(header)) jar.delete(name)
        else jar.set(name, value)
      }
      return { response, body: await response.text() }
    },
    post(path: string, form: Record<string, string> = {}) {
      return this.request(path, { method: 'POST', body: new URLSearchParams(form) })
    },
  }
}

const visits = (body: string) => /id="visits">(\d+)</.exec(body)?.[1]
const user = (body: string) => /id="user">([^<]+)</.exec(body)?.[1]
const notice = (body: string) => /class="notice"[^>]*>([^<]+)</.exec(body)?.[1]

describe('the npm start demo, over HTTP', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>
  beforeAll(async () => {
    demo = await startDemo({ port: 0 })
  })
  afterAll(() => demo.close())

  it('counts visits per browser', async () => {
    const alice = browser(demo.url)
    expect(visits((await alice.request('/')).body)).toBe('1')
    expect(visits((await alice.request('/')).body)).toBe('2')
    expect(visits((await alice.request('/')).body)).toBe('3')
    expect(visits((await browser(demo.url).request('/')).body)).toBe('1')
  })

  it('logs in under a new session id, with a welcome shown exactly once', async () => {
    const ada = browser(demo.url)
    await ada.request('/')
    const before = ada.jar.get('sid')
    const login = await ada.post('/login', { name: 'Ada <script>' })
    expect(login.response.status).toBe(303)
    expect(ada.jar.get('sid')).not.toBe(before)

    const home = await ada.request('/')
    expect(user(home.body)).toBe('Ada &lt;script&gt;')
    expect(notice(home.body)).toBe('Welcome, Ada &lt;script&gt;!')
    expect(visits(home.body)).toBe('2')
    expect(notice((await ada.request('/')).body)).toBeUndefined()

    const attacker = browser(demo.url)
    attacker.jar.set('sid', before ?? '')
    expect(user((await attacker.request('/')).body)).toBeUndefined()
  })

  it('logs out for good: the old cookie no longer signs anyone in', async () => {
    const bob = browser(demo.url)
    await bob.post('/login', { name: 'Bob' })
    const loggedIn = bob.jar.get('sid')
    await bob.post('/logout')
    const home = await bob.request('/')
    expect(user(home.body)).toBeUndefined()
    expect(notice(home.body)).toBe('You are logged out.')

    const replay = browser(demo.url)
    replay.jar.set('sid', loggedIn ?? '')
    expect(user((await replay.request('/')).body)).toBeUndefined()
  })

  it('shows the hashed key, not the id', async () => {
    const carol = browser(demo.url)
    await carol.request('/')
    const { body } = await carol.request('/session')
    const key = /id="key">([^<]+)</.exec(body)?.[1]
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(carol.jar.get('sid')).not.toContain(key)
  })
})
