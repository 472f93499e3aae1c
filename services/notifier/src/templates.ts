// Notification texts, rendered from the notification's type, actors and data.
export const NotificationTypes = ['follow', 'mention', 'milestone'] as const
export type NotificationType = typeof NotificationTypes[number]

export interface RenderInput {
  type: NotificationType
  /** Handles, newest first. */
  actorHandles: string[]
  actorCount: number
  data: Record<string, unknown>
}

function actors (input: RenderInput): string {
  const [first] = input.actorHandles
  const others = input.actorCount - 1
  return others === 0 ? `@${first}` : `@${first} and ${others} other${others === 1 ? '' : 's'}`
}

export function renderNotification (input: RenderInput): string {
  switch (input.type) {
    case 'follow':
      return `${actors(input)} followed you`
    case 'mention':
      return `${actors(input)} mentioned you`
    case 'milestone':
      return `Your link /${String(input.data['code'])} reached ${Number(input.data['clicks']).toLocaleString('en')} clicks`
  }
}

/** @handles in a post, once each (case-insensitive), at most `limit`. */
export function mentionedHandles (text: string, limit = 10): string[] {
  const found = new Map<string, string>()
  for (const match of text.matchAll(/(?<![A-Za-z0-9_@])@([A-Za-z0-9_]{3,30})(?![A-Za-z0-9_])/g)) {
    const handle = match[1]!
    if (!found.has(handle.toLowerCase())) found.set(handle.toLowerCase(), handle)
    if (found.size >= limit) break
  }
  return [...found.values()]
}
