import type { APIRoute } from 'astro'

/** Never touches the session: no DynamoDB call, no cookie. */
export const GET: APIRoute = () => new Response('ok')
