// Notifications: the list (live ones arrive at the top through the app's stream) and "mark all read".
import type { Notification } from '../api.ts'

export interface NotificationsViewProps {
  items: Notification[]
  state: 'connecting' | 'live' | 'retrying'
  onMarkAllRead: () => void
}

const STATE_LABEL = { connecting: 'connecting…', live: 'live', retrying: 'reconnecting…' }

export function NotificationsView ({ items, state, onMarkAllRead }: NotificationsViewProps) {
  return (
    <section class='card' aria-labelledby='notifications-title'>
      <h1 id='notifications-title'>Notifications</h1>
      <p class='hint'>Stream: <span data-testid='stream-state'>{STATE_LABEL[state]}</span> (Server-Sent Events)</p>
      <button type='button' class='secondary' onClick={onMarkAllRead} disabled={!items.some((n) => !n.read)}>Mark all read</button>
      {items.length === 0 && <p>No notifications yet.</p>}
      <ol class='feed'>
        {items.map((n) => (
          <li key={n.id} class={n.read ? 'notification' : 'notification unread'}>
            <p>{!n.read && <span class='visually-hidden'>Unread: </span>}{n.text}</p>
            <p class='meta'><time dateTime={n.updatedAt}>{new Date(n.updatedAt).toLocaleString()}</time></p>
          </li>
        ))}
      </ol>
    </section>
  )
}
