import { session } from '@/lib/session'

/** Reads only: no write, and no Set-Cookie. */
export const GET = session.withSession(async (_request, { session: current }) =>
  Response.json({ user: (await current.getUser()) ?? null, visits: (await current.get('visits')) ?? 0 }),
)
