import { session } from '@/lib/session'

/** Ends the session; Response.redirect's headers are immutable, so the cookie goes on a copy. */
export const POST = session.withSession(async (request, { session: current }) => {
  await current.destroy()
  return Response.redirect(new URL('/', request.url), 303)
})
