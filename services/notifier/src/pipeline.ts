// The notification pipeline: event → recipients → (dedupe, preferences, grouping, store) →
// channels. Each step is idempotent, so the at-least-once consumer can deliver an event twice.
import {
  assertEventData, Topics, type EventEnvelope, type FollowData, type MessageMeta, type PostCreatedData, type UrlMilestoneData
} from '@shortfeed/common'
import type { FastifyBaseLogger as Logger } from 'fastify'
import type { NotificationChannel } from './channels.ts'
import type { NotifierMetrics } from './metrics.ts'
import type { NewNotification, NotificationStore } from './store.ts'
import { mentionedHandles } from './templates.ts'
import type { UsersClient } from './users-client.ts'

export const NOTIFIER_TOPICS = [Topics.userFollowed, Topics.postCreated, Topics.urlMilestone]

export interface PipelineDeps {
  store: NotificationStore
  users: UsersClient
  channels: NotificationChannel[]
  logger: Logger
  metrics: NotifierMetrics
}

export function createPipeline (deps: PipelineDeps) {
  const { metrics } = deps
  /** The notifications an event asks for (before dedupe, preferences and grouping). */
  async function notificationsFor (topic: string, event: EventEnvelope): Promise<NewNotification[]> {
    switch (topic) {
      case Topics.userFollowed: {
        const data = event.data as FollowData
        const follower = await deps.users.byId(data.followerId)
        if (!follower) return []
        return [{ eventId: event.id, recipientId: data.followeeId, type: 'follow', actor: follower, data: { followerId: data.followerId } }]
      }
      case Topics.postCreated: {
        const data = event.data as PostCreatedData
        const handles = mentionedHandles(data.text)
        if (handles.length === 0) return []
        const author = await deps.users.byId(data.authorId)
        if (!author) return []
        const mentioned = await Promise.all(handles.map((h) => deps.users.byHandle(h)))
        return mentioned
          .filter((u): u is NonNullable<typeof u> => u !== null && u.id !== data.authorId)
          .map((u) => ({
            eventId: event.id,
            recipientId: u.id,
            type: 'mention' as const,
            actor: author,
            data: { postId: data.postId, excerpt: data.text.slice(0, 80) }
          }))
      }
      case Topics.urlMilestone: {
        const data = event.data as UrlMilestoneData
        return [{ eventId: event.id, recipientId: data.ownerId, type: 'milestone', data: { code: data.code, clicks: data.clicks } }]
      }
      default:
        return []
    }
  }

  return {
    async handle (event: EventEnvelope, meta: MessageMeta): Promise<void> {
      assertEventData(meta.topic, event.data)
      metrics.eventsConsumed.add(1, { type: meta.topic })
      for (const notification of await notificationsFor(meta.topic, event)) {
        const result = await deps.store.record(notification)
        if (result.outcome === 'duplicate') {
          metrics.duplicates.add(1)
          continue
        }
        if (result.outcome === 'suppressed') {
          metrics.suppressed.add(1, { type: notification.type })
          continue
        }
        if (result.outcome === 'grouped') metrics.grouped.add(1, { type: notification.type })
        else metrics.created.add(1, { type: notification.type })
        // Stored first, delivered after: a channel failing cannot lose the notification (the
        // list and Last-Event-ID resume still have it), so its error is logged, not retried.
        for (const channel of deps.channels) {
          await channel.deliver(result.recipientId, result.notification).catch((err: unknown) => {
            deps.logger.warn({ err, channel: channel.name }, 'notification channel failed')
          })
        }
      }
    }
  }
}

export type Pipeline = ReturnType<typeof createPipeline>
