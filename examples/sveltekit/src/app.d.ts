// Types `locals.session` in every load function, form action and endpoint.
import type { SessionLocals } from 'dynamodb-session/sveltekit'

declare global {
  namespace App {
    interface Locals extends SessionLocals<{ visits: number; user: string; notice: string; theme: string }> {}
  }
}
