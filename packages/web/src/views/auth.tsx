// Sign up (then signed in at once) and sign in.
import { useState } from 'preact/hooks'
import { call, setToken, type User } from '../api.ts'
import { ErrorMessage } from '../components/error-message.tsx'

export interface Session { user: User }

async function signIn (handle: string, password: string): Promise<Session> {
  const { accessToken } = await call<{ accessToken: string }>('POST', '/api/v1/auth/token', {
    action: 'Sign in',
    body: { handle, password }
  })
  setToken(accessToken)
  const user = await call<User>('GET', `/api/v1/users/by-handle/${encodeURIComponent(handle)}`, { action: 'Load my profile' })
  return { user }
}

export function AuthView ({ onSession }: { onSession: (session: Session) => void }) {
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-up')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)

  async function submit (event: Event) {
    event.preventDefault()
    const form = new FormData(event.currentTarget as HTMLFormElement)
    const handle = String(form.get('handle') ?? '').trim()
    const password = String(form.get('password') ?? '')
    setBusy(true)
    setError(null)
    try {
      if (mode === 'sign-up') {
        const displayName = String(form.get('displayName') ?? '').trim()
        await call('POST', '/api/v1/users', { action: 'Sign up', body: { handle, password, ...(displayName ? { displayName } : {}) } })
      }
      onSession(await signIn(handle, password))
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section class='card narrow' aria-labelledby='auth-title'>
      <h1 id='auth-title'>{mode === 'sign-up' ? 'Create your account' : 'Sign in'}</h1>
      <form onSubmit={submit}>
        <label for='handle'>Handle</label>
        <input
          id='handle'
          name='handle'
          required
          minLength={3}
          maxLength={30}
          pattern='[A-Za-z0-9_]+'
          autocomplete='username'
          aria-describedby='handle-hint'
        />
        <p id='handle-hint' class='hint'>3 to 30 letters, digits or underscores.</p>
        {mode === 'sign-up' && (
          <>
            <label for='displayName'>Display name (optional)</label>
            <input id='displayName' name='displayName' maxLength={50} autocomplete='name' />
          </>
        )}
        <label for='password'>Password</label>
        <input
          id='password'
          name='password'
          type='password'
          required
          minLength={mode === 'sign-up' ? 8 : 1}
          autocomplete={mode === 'sign-up' ? 'new-password' : 'current-password'}
        />
        <button type='submit' disabled={busy}>{mode === 'sign-up' ? 'Sign up' : 'Sign in'}</button>
        <ErrorMessage error={error} />
      </form>
      <p>
        {mode === 'sign-up' ? 'Already have an account? ' : 'New here? '}
        <button type='button' class='link' onClick={() => { setMode(mode === 'sign-up' ? 'sign-in' : 'sign-up'); setError(null) }}>
          {mode === 'sign-up' ? 'Sign in instead' : 'Create an account'}
        </button>
      </p>
    </section>
  )
}
