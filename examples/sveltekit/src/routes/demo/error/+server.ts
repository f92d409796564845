import type { RequestHandler } from '@sveltejs/kit'

/** Fails after changing the session: the 500 saves nothing of it. */
export const POST: RequestHandler = async ({ locals }) => {
  await locals.session.set('visits', 1_000_000)
  throw new Error('This handler failed part way; its session change is not saved.')
}
