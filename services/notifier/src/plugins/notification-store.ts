// Decorates the app with the notifications in Postgres (app.notificationStore): what the
// pipeline records into, and what the read API and the live streams read from.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createNotificationStore, type NotificationStore } from '../store.ts'

declare module 'fastify' {
  interface FastifyInstance {
    notificationStore: NotificationStore
  }
}

export interface NotificationStoreOptions {
  /** Notifications of one type per recipient within the window before they fold into one (GROUP_AFTER). */
  after: number
  windowSeconds: number
}

export default fp(async function notificationStore (app: FastifyInstance, options: NotificationStoreOptions) {
  app.decorate('notificationStore', createNotificationStore(app.pg, options))
}, { name: 'notifier-store', dependencies: ['postgres'] })
