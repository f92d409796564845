// The Node demo (examples/node/server.ts) in a real browser: headless Chromium through
// playwright-core, clicking through the counter, login and logout, with screenshots in
// test-results/. Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it).
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type Demo, startDemo } from '../examples/node/server.ts'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
const screenshots = new URL('../test-results/', import.meta.url)

let demo: Demo | undefined
let browser: Browser | undefined

beforeAll(async () => {
  if (!hasChromium) return
  await mkdir(screenshots, { recursive: true })
  demo = await startDemo({ port: 0 })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await demo?.close()
})

const name = hasChromium
  ? 'Chromium keeps the session across visits, login (new id) and logout'
  : `Chromium keeps the session … (NOT RUN: ${CHROMIUM} is missing; apt-get install -y chromium)`

test.skipIf(!hasChromium)(
  name,
  async () => {
    if (!browser || !demo) throw new Error('the browser or the demo did not start')
    const context = await browser.newContext()
    const page = await context.newPage()
    const sessionCookie = async () => (await context.cookies()).find((cookie) => cookie.name === 'sid')?.value

    for (const visits of ['1', '2', '3']) {
      await page.goto(demo.url)
      expect(await page.textContent('#visits')).toBe(visits)
    }
    const beforeLogin = await sessionCookie()
    expect(beforeLogin).toBeDefined()
    await page.screenshot({ path: new URL('browser-1-visits.png', screenshots).pathname })

    await page.fill('#name', 'Ada')
    await page.click('button[type=submit]')
    await page.waitForSelector('#user') // after the redirect to /
    expect(await page.textContent('#user')).toBe('Ada')
    expect(await page.textContent('.notice')).toBe('Welcome, Ada!')
    expect(await page.textContent('#visits')).toBe('4')
    const afterLogin = await sessionCookie()
    expect(afterLogin).toBeDefined()
    expect(afterLogin).not.toBe(beforeLogin)
    await page.screenshot({ path: new URL('browser-2-logged-in.png', screenshots).pathname })

    await page.goto(`${demo.url}/session`)
    expect(await page.textContent('#stored')).toBe('yes')
    expect(await page.textContent('#key')).toMatch(/^[\w-]{43}$/)

    await page.goto(demo.url)
    await page.click('text=Log out')
    await page.waitForSelector('text=You are logged out.')
    expect(await page.textContent('.notice')).toBe('You are logged out.')
    expect(await page.$('#user')).toBeNull()
    await page.screenshot({ path: new URL('browser-3-logged-out.png', screenshots).pathname })
    await context.close()
  },
  60_000,
)
