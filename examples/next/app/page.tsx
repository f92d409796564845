// A Server Component: it reads the session (read-only: it cannot set cookies) and renders
// forms whose Server Actions change it.
import { session } from '@/lib/session'
import { countVisit, logIn, logOut } from './actions'

export default async function Home() {
  const current = await session.readSession()
  const visits = (await current.get('visits')) ?? 0
  const user = await current.getUser()
  return (
    <main>
      <p>
        Visits: <span id="visits">{visits}</span>
      </p>
      <p>
        User: <span id="user">{user ?? ''}</span>
      </p>
      <form action={countVisit}>
        <button type="submit">Count a visit</button>
      </form>
      {user ? (
        <form action={logOut}>
          <button type="submit">Log out</button>
        </form>
      ) : (
        <form action={logIn}>
          <input name="name" placeholder="Your name" required />
          <button type="submit">Log in</button>
        </form>
      )}
    </main>
  )
}
