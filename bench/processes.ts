// Child processes of the benchmark: started with tsx, ready once they print `READY <port>`, and
// ended by their own handle (never by name) when the benchmark ends or fails.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))

export interface Child {
  process: ChildProcess
  port: number
  /** The last lines it wrote to stderr, for error messages. */
  stderr: () => string
  stop: () => Promise<void>
}

const started = new Set<ChildProcess>()

/** Runs `node --import tsx <file> ...args` and waits for its READY line. */
export async function startChild(
  file: string,
  {
    args = [],
    env = {},
    timeoutMs = 60_000,
  }: { args?: string[]; env?: Record<string, string>; timeoutMs?: number },
): Promise<Child> {
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  started.add(child)
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${file} did not start within ${timeoutMs} ms:\n${stderr}`)),
      timeoutMs,
    )
    let stdout = ''
    child.stdout?.on('data', (chunk) => {
      stdout += chunk
      const match = /READY (\d+)/.exec(stdout)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${file} exited (${signal ?? code}) before it was ready:\n${stderr}`))
    })
  })
  return {
    process: child,
    port,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const slow = setTimeout(() => child.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(slow)
      }
      started.delete(child)
    },
  }
}

/** Sends `message` over IPC and waits for the first answer whose type is `type`. */
export function ask<T>(child: ChildProcess, message: string, type: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', listen)
      reject(new Error(`no "${type}" answer within ${timeoutMs} ms`))
    }, timeoutMs)
    const listen = (answer: unknown) => {
      if ((answer as { type?: string })?.type !== type) return
      clearTimeout(timer)
      child.off('message', listen)
      resolve(answer as T)
    }
    child.on('message', listen)
    child.send(message)
  })
}

/** Ends every child still running: for the exit path of a failed run. */
export function killAllStarted(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}
