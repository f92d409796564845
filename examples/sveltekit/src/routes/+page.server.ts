import { type Actions, fail, redirect, type ServerLoad } from '@sveltejs/kit'

export const load: ServerLoad = async ({ locals }) => {
  const visits = ((await locals.session.get('visits')) ?? 0) + 1
  await locals.session.set('visits', visits)
  return {
    visits,
    user: await locals.session.get('user'),
    notice: await locals.session.get('notice'), // a flash value: shown once, then gone
  }
}

export const actions: Actions = {
  login: async ({ request, locals }) => {
    const name = String((await request.formData()).get('name') ?? '')
      .trim()
      .slice(0, 40)
    if (!name) return fail(400, { missing: true })
    await locals.session.set('user', name)
    // Privileges change: a new session id, and the old one deleted, so a planted id is worthless.
    await locals.session.regenerate()
    await locals.session.flash('notice', `Welcome, ${name}!`)
    // The session cookie is added to this redirect after the action, so the login sticks.
    redirect(303, '/')
  },
  logout: async ({ locals }) => {
    await locals.session.destroy()
    await locals.session.flash('notice', 'You are logged out.')
    redirect(303, '/')
  },
}
