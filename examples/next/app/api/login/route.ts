import { redirect } from 'next/navigation'
import { session } from '@/lib/session'

/** Logs in from a plain form POST, then redirects: the new cookie rides on the redirect. */
export const POST = session.withSession(async (request, { session: current }) => {
  const name = String((await request.formData()).get('name') ?? '').trim()
  if (!name) return Response.json({ error: 'name is required' }, { status: 400 })
  await current.regenerate()
  await current.setUser(name)
  redirect('/') // thrown: Next answers 307 and adds the session cookie, set through cookies()
})
