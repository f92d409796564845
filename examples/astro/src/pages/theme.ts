import type { APIRoute } from 'astro'

/** Sets a cookie of its own next to the session's: the response carries both. */
export const POST: APIRoute = async ({ url, cookies, locals }) => {
  const theme = url.searchParams.get('value') === 'dark' ? 'dark' : 'light'
  cookies.set('theme', theme, { path: '/', sameSite: 'lax' })
  await locals.session.set('theme', theme)
  return new Response(null, { status: 204 })
}
