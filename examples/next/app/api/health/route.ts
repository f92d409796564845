import { session } from '@/lib/session'

/** Wrapped but never touches the session: no DynamoDB call, no Set-Cookie. */
export const GET = session.withSession(() => Response.json({ ok: true }))
