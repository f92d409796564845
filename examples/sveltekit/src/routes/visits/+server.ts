import { json, type RequestHandler } from '@sveltejs/kit'

/** Reads the session and changes nothing: one read, no write, no cookie. */
export const GET: RequestHandler = async ({ locals }) =>
  json({
    visits: (await locals.session.get('visits')) ?? 0,
    user: (await locals.session.get('user')) ?? null,
  })
