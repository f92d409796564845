// For the framework tests that build an example app once and serve it: run the build, start the
// built server as its own process on a free 127.0.0.1 port, and browse it with a cookie jar.
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'

/**
 * This process's environment without what vitest adds for its own import.meta.env (DEV=1, MODE=test,
 * NODE_ENV=test, …): a build or server started with it would take itself for a development one.
 */
export function productionEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { BASE_URL: _b, MODE: _m, DEV: _d, PROD: _p, SSR: _s, ...rest } = process.env
  return { ...rest, NODE_ENV: 'production', ...extra }
}

/** Runs a command to its end and resolves its run time in seconds and its output; rejects on failure. */
export function runBuild(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  const started = performance.now()
  return new Promise<{ seconds: number; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code === 0) resolve({ seconds: (performance.now() - started) / 1000, output })
      else reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output}`))
    })
  })
}

/** A port that was free a moment ago: the built servers take a port number, not 0. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no TCP port')
  return address.port
}

export interface RunningServer {
  url: string
  /** Everything the server printed so far. */
  output(): string
  stop(): Promise<void>
}

/** Starts `node entry` and resolves once it prints a line that matches `ready`. */
export function startServer(
  entry: string,
  options: { env: NodeJS.ProcessEnv; ready: RegExp; url: string },
): Promise<RunningServer> {
  return startProcess(process.execPath, [entry], options)
}

/**
 * Runs `command` and resolves once its output matches `ready`: the server listens at `url`, or
 * at what `ready` captured first when no `url` is given.
 */
export function startProcess(
  command: string,
  args: string[],
  { env, ready, url, cwd }: { env: NodeJS.ProcessEnv; ready: RegExp; url?: string; cwd?: string },
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once('exit', () => done())
        child.kill('SIGTERM')
      })
    const name = [command, ...args].join(' ')
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`${name} did not start in 30 s:\n${output}`))
    }, 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk
      const match = ready.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ url: url ?? match[1] ?? '', output: () => output, stop })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${code}) before it listened:\n${output}`))
    })
  })
}

export interface Visit {
  response: Response
  status: number
  body: string
  /** Every Set-Cookie line of the response. */
  setCookies: string[]
  /** The session cookie's value as this response set it, if it did. */
  session: string | undefined
}

/**
 * A browser's cookie jar for one origin: sends what it holds, keeps what responses set, forgets
 * what they expire, and does not follow redirects, so each response can be looked at.
 */
export function browser(base: string, sessionCookie = 'sid') {
  const cookies = new Map<string, string>()
  return {
    cookies,
    get session() {
      return cookies.get(sessionCookie)
    },
    async fetch(path: string, init: RequestInit = {}): Promise<Visit> {
      const headers = new Headers(init.headers)
      if (cookies.size > 0) {
        headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '))
      }
      const response = await fetch(`${base}${path}`, { redirect: 'manual', ...init, headers })
      const setCookies = response.headers.getSetCookie()
      let session: string | undefined
      for (const line of setCookies) {
        const [pair = ''] = line.split(';')
        const name = pair.slice(0, pair.indexOf('='))
        const value = pair.slice(pair.indexOf('=') + 1)
        if (name === sessionCookie) session = value
        if (/;\s*max-age=0\b/i.test(line) || value === '') cookies.delete(name)
        else cookies.set(name, value)
      }
      return { response, status: response.status, body: await response.text(), setCookies, session }
    },
    /** Posts a form as a browser does: Origin (both frameworks check it) and an HTML Accept. */
    post(path: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
      return this.fetch(path, {
        method: 'POST',
        body: new URLSearchParams(fields),
        headers: { origin: base, accept: 'text/html,application/xhtml+xml,*/*;q=0.8', ...headers },
      })
    },
  }
}
