// Types `locals.session` in every page, endpoint and action. A script file (no top-level import
// or export), so that App stays the global namespace Astro declares.
declare namespace App {
  interface Locals {
    session: import('dynamodb-session/astro').Session<{
      visits: number
      user: string
      notice: string
      theme: string
    }>
  }
}
