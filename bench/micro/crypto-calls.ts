// Counts WebCrypto calls per request through the middleware (MemoryStore), to check the hot-path
// targets: keys imported once, never per request, and the signed cookie verified once. Prints
// JSON. It replaces crypto.subtle's methods with counting wrappers, so it runs in a process of
// its own (`npm run bench` starts it), never inside another benchmark.
import { getSession } from '../../src/index.ts'
import { smallSession } from '../data.ts'
import { memoryMiddleware } from './memory-middleware.ts'

const METHODS = [
  'importKey',
  'deriveKey',
  'deriveBits',
  'verify',
  'sign',
  'digest',
  'encrypt',
  'decrypt',
] as const
const counts: Record<string, number> = {}
const subtle = crypto.subtle as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
for (const method of METHODS) {
  const original = subtle[method]?.bind(crypto.subtle)
  if (!original) continue
  subtle[method] = (...args: unknown[]) => {
    counts[method] = (counts[method] ?? 0) + 1
    return original(...args)
  }
}

const REQUESTS = 200

async function perRequest(encrypt: boolean) {
  const { withSession, cookie } = await memoryMiddleware(smallSession(1), encrypt)
  const kinds: Record<string, (request: Request) => Promise<Response>> = {
    'W5 cookie, session unused': async () => new Response('ok'),
    'W2 cookie, read one value': async (request) =>
      new Response(String(await getSession(request).get('user'))),
    'W3 cookie, change one value': async (request) => {
      await getSession(request).set('count', Math.random())
      return new Response('ok')
    },
  }
  const result: Record<string, Record<string, number>> = {}
  for (const [kind, handler] of Object.entries(kinds)) {
    for (const method of Object.keys(counts)) counts[method] = 0
    for (let i = 0; i < REQUESTS; i++) {
      const response = await withSession(new Request('http://bench/', { headers: { cookie } }), handler)
      if (response.status !== 200) throw new Error(`${kind}: HTTP ${response.status}`)
    }
    result[kind] = Object.fromEntries(
      Object.entries(counts)
        .filter(([, count]) => count > 0)
        .map(([method, count]) => [method, count / REQUESTS]),
    )
  }
  return result
}

console.log(
  JSON.stringify({ requests: REQUESTS, plain: await perRequest(false), encrypt: await perRequest(true) }),
)
