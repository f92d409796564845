import { cookies } from 'next/headers'
import { session } from '@/lib/session'

/** The handler's own cookie, set through cookies(), is sent beside the session cookie. */
export const POST = session.withSession(async (request, { session: current }) => {
  const theme = new URL(request.url).searchParams.get('theme') === 'dark' ? 'dark' : 'light'
  await current.set('theme', theme)
  ;(await cookies()).set('theme', theme, { path: '/', sameSite: 'lax' })
  return Response.json({ theme })
})
