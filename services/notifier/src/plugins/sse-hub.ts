// Decorates the app with the live streams (app.sseHub) and owns their Redis subscriber: a
// connection in subscriber mode can run no other command, so the hub cannot share app.redis.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createSseHub, type SseHub } from '../live/sse-hub.ts'

declare module 'fastify' {
  interface FastifyInstance {
    sseHub: SseHub
  }
}

export interface SseHubPluginOptions {
  /** REDIS_KEY_PREFIX: ioredis does not prefix pub/sub channels, so the hub does. */
  prefix: string
  heartbeatMs: number
}

export default fp(async function sseHub (app: FastifyInstance, options: SseHubPluginOptions) {
  // No key prefix on the duplicate: channel names carry it already (see liveTopic).
  const subscriber = app.redis.duplicate({ keyPrefix: '' })
  // Errors surface as failed subscriptions (the stream ends and its client retries), not here.
  subscriber.on('error', () => {})
  await subscriber.connect().catch(() => { app.log.warn('redis unreachable: live streams wait for it') })
  const hub = createSseHub({
    subscriber,
    prefix: options.prefix,
    store: app.notificationStore,
    heartbeatMs: options.heartbeatMs,
    metrics: app.notifierMetrics
  })
  app.decorate('sseHub', hub)
  // Streams end first so the HTTP server can drain; clients reconnect with Last-Event-ID.
  app.addHook('preClose', async () => { hub.closeAll() })
  app.addHook('onClose', async () => { subscriber.disconnect() })
}, { name: 'notifier-sse-hub', dependencies: ['redis', 'notifier-metrics', 'notifier-store'] })
