// Find someone by handle; follow or unfollow them.
import { useState } from 'preact/hooks'
import { call, type User } from '../api.ts'
import { ErrorMessage } from '../components/error-message.tsx'

export function PeopleView ({ me }: { me: User }) {
  const [user, setUser] = useState<User | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [status, setStatus] = useState('')

  async function find (event: Event) {
    event.preventDefault()
    const handle = String(new FormData(event.currentTarget as HTMLFormElement).get('find') ?? '').trim().replace(/^@/, '')
    setError(null)
    setStatus('')
    try {
      setUser(await call<User>('GET', `/api/v1/users/by-handle/${encodeURIComponent(handle)}`, { action: `Find @${handle}` }))
    } catch (err) {
      setUser(null)
      setError(err)
    }
  }

  async function change (follow: boolean) {
    if (!user) return
    setError(null)
    try {
      const action = `${follow ? 'Follow' : 'Unfollow'} @${user.handle}`
      await call(follow ? 'PUT' : 'DELETE', `/api/v1/me/following/${user.id}`, { action })
      setUser(await call<User>('GET', `/api/v1/users/${user.id}`, { action: `Reload @${user.handle}` }))
      setStatus(follow ? `You follow @${user.handle}.` : `You no longer follow @${user.handle}.`)
    } catch (err) {
      setError(err)
    }
  }

  return (
    <section class='card' aria-labelledby='people-title'>
      <h1 id='people-title'>People</h1>
      <form onSubmit={find} class='row'>
        <label for='find'>Handle</label>
        <input id='find' name='find' required placeholder='@handle' />
        <button type='submit'>Find</button>
      </form>
      <ErrorMessage error={error} />
      {user && (
        <div class='person'>
          <h2>@{user.handle}{user.displayName ? ` (${user.displayName})` : ''}</h2>
          <p>{user.followerCount} follower{user.followerCount === 1 ? '' : 's'} · follows {user.followingCount}</p>
          {user.id !== me.id && (
            <p class='row'>
              <button type='button' onClick={() => { void change(true) }}>Follow @{user.handle}</button>
              <button type='button' class='secondary' onClick={() => { void change(false) }}>Unfollow @{user.handle}</button>
            </p>
          )}
          <p role='status'>{status}</p>
        </div>
      )}
    </section>
  )
}
