// A Deno.serve server on the built package (dist/index.js), for test/runtimes.test.ts to prove
// that a Deno server using the library prints nothing to stderr: Deno 2.9 warns once per process
// when a handler reads request.signal. Prints `READY <port>`. From the repository root:
//   deno run --allow-net=127.0.0.1 --allow-env --allow-sys=osRelease --allow-read=node_modules,dist,test/runtimes \
//     test/runtimes/deno-serve.ts
import type * as Package from '../../src/index.ts'

declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen(address: { port: number }): void },
    handler: (request: Request) => Promise<Response>,
  ): unknown
}

const lib: typeof Package = await import(new URL('../../dist/index.js', import.meta.url).href)
const withSession = lib.sessionMiddleware<{ count: number }>({
  secretKey: 'deno-serve-secret-0123456789-abcdefghijklmnop',
  store: new lib.MemoryStore(),
  cookie: { secure: false },
})

Deno.serve(
  { port: 0, hostname: '127.0.0.1', onListen: ({ port }) => console.log(`READY ${port}`) },
  (request) =>
    withSession(request, async (request) => {
      const session = lib.getSession<{ count: number }>(request)
      const path = new URL(request.url).pathname
      if (path === '/read') return new Response(String((await session.get('count')) ?? 0))
      if (path === '/write') {
        const count = ((await session.get('count')) ?? 0) + 1
        await session.set('count', count)
        return new Response(String(count))
      }
      if (path === '/regenerate') {
        await session.regenerate()
        return new Response('moved')
      }
      if (path === '/destroy') {
        await session.destroy()
        return new Response('ended')
      }
      return new Response('no session here')
    }),
)
