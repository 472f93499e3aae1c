// Decorates the app with the notification pipeline (app.notificationPipeline): the store, the
// users API for handles, and the channels a stored notification goes out on.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { liveChannel, logChannel } from '../channels.ts'
import { createPipeline, type Pipeline } from '../pipeline.ts'
import { createUsersClient } from '../users-client.ts'

declare module 'fastify' {
  interface FastifyInstance {
    notificationPipeline: Pipeline
  }
}

export interface PipelinePluginOptions {
  usersApiUrl: string
  usersApiTimeoutMs: number
  /** REDIS_KEY_PREFIX, for the live channel's pub/sub topics (ioredis does not prefix those). */
  redisKeyPrefix: string
}

export default fp(async function notificationPipeline (app: FastifyInstance, options: PipelinePluginOptions) {
  app.decorate('notificationPipeline', createPipeline({
    store: app.notificationStore,
    users: createUsersClient(options.usersApiUrl, options.usersApiTimeoutMs),
    channels: [liveChannel(app.redis, options.redisKeyPrefix), logChannel(app.log)],
    logger: app.log,
    metrics: app.notifierMetrics
  }))
}, { name: 'notifier-pipeline', dependencies: ['redis', 'notifier-metrics', 'notifier-store'] })
