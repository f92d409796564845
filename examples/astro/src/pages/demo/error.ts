import type { APIRoute } from 'astro'

/** Fails after changing the session: the 500 saves nothing of it. */
export const POST: APIRoute = async ({ locals }) => {
  await locals.session.set('visits', 1_000_000)
  throw new Error('This handler failed part way; its session change is not saved.')
}
