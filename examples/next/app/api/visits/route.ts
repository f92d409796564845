import { session } from '@/lib/session'

/** Counts visits in a Route Handler. */
export const GET = session.withSession(async (_request, { session: current }) => {
  const visits = ((await current.get('visits')) ?? 0) + 1
  await current.set('visits', visits)
  return Response.json({ visits })
})
