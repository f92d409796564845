import { session } from '@/lib/session'

// The same counter on the Edge runtime: the AWS SDK's fetch-based client, WebCrypto signing.
export const runtime = 'edge'

export const GET = session.withSession(async (_request, { session: current }) => {
  const visits = ((await current.get('visits')) ?? 0) + 1
  await current.set('visits', visits)
  return Response.json({ visits, runtime: typeof EdgeRuntime === 'string' ? 'edge' : 'nodejs' })
})

declare const EdgeRuntime: string | undefined
