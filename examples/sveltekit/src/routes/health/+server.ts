import type { RequestHandler } from '@sveltejs/kit'

/** Never touches the session: no DynamoDB call, no cookie. */
export const GET: RequestHandler = () => new Response('ok')
