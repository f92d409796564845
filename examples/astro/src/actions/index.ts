import { defineAction } from 'astro:actions'
import { z } from 'astro:schema'

export const server = {
  login: defineAction({
    accept: 'form',
    input: z.object({ name: z.string().trim().min(1, 'Please enter a name.').max(40) }),
    handler: async ({ name }, { locals }) => {
      await locals.session.set('user', name)
      // Privileges change: a new session id, and the old one deleted, so a planted id is worthless.
      await locals.session.regenerate()
      await locals.session.flash('notice', `Welcome, ${name}!`)
      return { user: name }
    },
  }),
  logout: defineAction({
    accept: 'form',
    handler: async (_input, { locals }) => {
      await locals.session.destroy()
      await locals.session.flash('notice', 'You are logged out.')
    },
  }),
}
