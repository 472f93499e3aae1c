// Where a stored notification goes next. Each channel is one small object behind one
// interface, so e-mail or web push is a new file, not a change to the pipeline.
import type { Redis } from 'ioredis'
import type { FastifyBaseLogger as Logger } from 'fastify'
import type { Notification } from './store.ts'

export interface NotificationChannel {
  name: string
  deliver: (recipientId: string, notification: Notification) => Promise<void>
}

/** The live channel: published on Redis so every notifier instance's SSE streams see it. */
export function liveChannel (redis: Redis, prefix: string): NotificationChannel {
  return {
    name: 'live',
    async deliver (recipientId, notification) {
      await redis.publish(liveTopic(prefix, recipientId), JSON.stringify(notification))
    }
  }
}

/** A stand-in for e-mail or push: logs what would be sent. */
export function logChannel (logger: Logger): NotificationChannel {
  return {
    name: 'log',
    async deliver (recipientId, notification) {
      logger.info({ recipientId, notificationId: notification.id, type: notification.type }, `notify: ${notification.text}`)
    }
  }
}

/** Pub/sub channels are not key-prefixed by ioredis; the prefix keeps stacks sharing a Redis apart. */
export const liveTopic = (prefix: string, recipientId: string) => `${prefix}notifications:${recipientId}`
