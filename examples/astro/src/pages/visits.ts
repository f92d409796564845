import type { APIRoute } from 'astro'

/** Reads the session and changes nothing: one read, no write, no cookie. */
export const GET: APIRoute = async ({ locals }) =>
  Response.json({
    visits: (await locals.session.get('visits')) ?? 0,
    user: (await locals.session.get('user')) ?? null,
  })
