'use server'
// Server Actions: each gets the session first, and it is saved once when the action ends.
import { redirect } from 'next/navigation'
import { session } from '@/lib/session'

export const countVisit = session.action(async (current) => {
  await current.set('visits', ((await current.get('visits')) ?? 0) + 1)
})

export const logIn = session.action(async (current, form: FormData) => {
  const name = String(form.get('name') ?? '').trim()
  if (!name) return
  // A new id on log in, so an id planted before it (session fixation) is worth nothing.
  await current.regenerate()
  await current.setUser(name)
  redirect('/') // the new cookie goes out with Next's 303
})

export const logOut = session.action(async (current) => {
  await current.destroy()
  redirect('/')
})
