// The shell: session, navigation (hash routes: every path is a potential short code, so the
// UI owns only `/`), the live notification stream with its unread badge, and the panel.
import { useEffect, useState } from 'preact/hooks'
import { call, setToken, type Notification, type Page, type User } from './api.ts'
import { HoodPanel } from './hood-panel.tsx'
import { openLiveNotifications } from './live.ts'
import { AuthView, type Session } from './views/auth.tsx'
import { LinkStatsView } from './views/link-stats.tsx'
import { LinksView } from './views/links.tsx'
import { NotificationsView } from './views/notifications.tsx'
import { PeopleView } from './views/people.tsx'
import { TimelineView } from './views/timeline.tsx'

const VIEWS = [['links', 'Links'], ['timeline', 'Timeline'], ['people', 'People'], ['notifications', 'Notifications']] as const
type View = typeof VIEWS[number][0]

function currentView (): View {
  const name = location.hash.replace(/^#\/?/, '').split('/')[0]
  return VIEWS.some(([v]) => v === name) ? name as View : 'links'
}

/** The code in #/links/{code}: that link's page. */
function currentLink (): string | null {
  return /^#\/?links\/([A-Za-z0-9_-]{3,32})$/.exec(location.hash)?.[1] ?? null
}

function storedSession (): Session | null {
  const raw = sessionStorage.getItem('shortfeed.user')
  return raw ? { user: JSON.parse(raw) as User } : null
}

export function App () {
  const [session, setSession] = useState<Session | null>(storedSession)
  const [view, setView] = useState<View>(currentView)
  const [linkCode, setLinkCode] = useState<string | null>(currentLink)
  const [traceUiUrl, setTraceUiUrl] = useState<string | null>(null)
  const [notifications, setNotifications] = useState<Notification[]>([])
  const [streamState, setStreamState] = useState<'connecting' | 'live' | 'retrying'>('connecting')

  useEffect(() => {
    const onHash = () => { setView(currentView()); setLinkCode(currentLink()) }
    addEventListener('hashchange', onHash)
    void fetch('/_/config.json')
      .then(async (r) => r.ok ? await r.json() as { traceUiUrl: string | null } : null)
      .then((c) => { setTraceUiUrl(c?.traceUiUrl ?? null) })
      .catch(() => {})
    return () => { removeEventListener('hashchange', onHash) }
  }, [])

  // Signed in: the notifications so far, then live ones as they happen. A notification that
  // groups more actors comes again under the same id, newer: it replaces the old copy.
  useEffect(() => {
    if (!session) return
    let stopped = false
    void call<Page<Notification>>('GET', '/api/v1/notifications?limit=50', { action: 'Load notifications' })
      .then((page) => { if (!stopped) setNotifications((live) => merge(page.items, live)) })
      .catch(() => {})
    const close = openLiveNotifications({
      onNotification: (n) => { setNotifications((list) => merge(list, [n])) },
      onState: setStreamState
    })
    return () => { stopped = true; close() }
  }, [session?.user.id])

  function signedIn (next: Session) {
    sessionStorage.setItem('shortfeed.user', JSON.stringify(next.user))
    setSession(next)
  }

  function signOut () {
    setToken(null)
    sessionStorage.removeItem('shortfeed.user')
    setNotifications([])
    setSession(null)
  }

  async function markAllRead () {
    const newest = notifications[0]
    if (!newest) return
    try {
      await call('POST', '/api/v1/notifications/read', { action: 'Mark all notifications read', body: { upToId: newest.id } })
      setNotifications((list) => list.map((n) => ({ ...n, read: true })))
    } catch {}
  }

  const unread = notifications.filter((n) => !n.read).length
  return (
    <>
      <a class='skip' href='#main'>Skip to content</a>
      <header>
        <p class='brand'>Shortfeed</p>
        {session && (
          <nav aria-label='Main'>
            <ul>
              {VIEWS.map(([name, label]) => (
                <li key={name}>
                  <a href={`#/${name}`} aria-current={view === name ? 'page' : undefined}>
                    {label}
                    {name === 'notifications' && unread > 0 && (
                      <span class='count' data-testid='unread-badge' aria-label={`, ${unread} unread`}>{unread}</span>
                    )}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {session && <p class='who'>@{session.user.handle} <button type='button' class='link' onClick={signOut}>Sign out</button></p>}
      </header>
      <div class='layout'>
        <main id='main' tabIndex={-1}>
          {!session && <AuthView onSession={signedIn} />}
          {session && view === 'links' && (linkCode ? <LinkStatsView code={linkCode} /> : <LinksView />)}
          {session && view === 'timeline' && <TimelineView />}
          {session && view === 'people' && <PeopleView me={session.user} />}
          {session && view === 'notifications' && (
            <NotificationsView items={notifications} state={streamState} onMarkAllRead={markAllRead} />
          )}
        </main>
        <HoodPanel traceUiUrl={traceUiUrl} />
      </div>
      <div class='visually-hidden' aria-live='polite'>{unread > 0 ? `${unread} unread notification${unread === 1 ? '' : 's'}` : ''}</div>
    </>
  )
}

/** Newest first, one entry per id (the later copy wins). */
function merge (older: Notification[], newer: Notification[]): Notification[] {
  const byId = new Map(older.map((n) => [n.id, n]))
  for (const n of newer) byId.set(n.id, n)
  return [...byId.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
}
