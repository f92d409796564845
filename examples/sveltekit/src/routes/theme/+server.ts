import type { RequestHandler } from '@sveltejs/kit'

/** Sets a cookie of its own next to the session's: the response carries both. */
export const POST: RequestHandler = async ({ url, cookies, locals }) => {
  const theme = url.searchParams.get('value') === 'dark' ? 'dark' : 'light'
  cookies.set('theme', theme, { path: '/', httpOnly: false, secure: false, sameSite: 'lax' })
  await locals.session.set('theme', theme)
  return new Response(null, { status: 204 })
}
