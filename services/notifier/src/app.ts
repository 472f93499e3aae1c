// The notifier as a Fastify app: buildApp(config) registers, in order, the instruments, the
// infrastructure (Postgres, Redis, Kafka), the notification store, the live streams (SSE through
// Redis pub/sub), the pipeline and its channels, the read API, and the worker that feeds the
// pipeline from a Kafka consumer group (retries, DLQ).
import {
  createServer, identityPlugin, kafkaPlugin, migrationsDirOf, postgresPlugin, PRIVATE_NETWORKS, redisPlugin
} from '@shortfeed/common'
import type { NotifierConfig } from './config.ts'
import { metricsPlugin } from './metrics.ts'
import { NOTIFIER_TOPICS } from './pipeline.ts'
import notificationStore from './plugins/notification-store.ts'
import notificationPipeline from './plugins/pipeline.ts'
import sseHub from './plugins/sse-hub.ts'
import notificationRoutes from './routes/notifications.ts'
import { notificationConsumer } from './workers/notification-consumer.ts'

export const MIGRATIONS_DIR = migrationsDirOf(import.meta.url)

export async function buildApp (config: NotifierConfig) {
  const app = await createServer({ service: 'notifier', config, trustProxy: [...PRIVATE_NETWORKS] })
  // First: the plugins below read app.notifierMetrics and list notifier-metrics as a dependency.
  await app.register(metricsPlugin)
  await app.register(postgresPlugin, { config, applicationName: 'notifier', migrationsDir: MIGRATIONS_DIR })
  await app.register(redisPlugin, { config, connectionName: 'notifier' })
  await app.register(kafkaPlugin, { config, clientId: 'notifier', topics: NOTIFIER_TOPICS })
  await app.register(identityPlugin, { secret: config.INTERNAL_AUTH_SECRET })

  await app.register(notificationStore, { after: config.GROUP_AFTER, windowSeconds: config.GROUP_WINDOW_SECONDS })
  await app.register(sseHub, { prefix: config.REDIS_KEY_PREFIX, heartbeatMs: config.SSE_HEARTBEAT_MS })
  await app.register(notificationPipeline, {
    usersApiUrl: config.USERS_API_URL,
    usersApiTimeoutMs: config.USERS_API_TIMEOUT_MS,
    redisKeyPrefix: config.REDIS_KEY_PREFIX
  })

  await app.register(notificationRoutes)

  // The worker: it starts with the app, in the background, and stops when it closes.
  await app.register(notificationConsumer, { groupId: config.NOTIFIER_GROUP, attempts: config.KAFKA_HANDLER_ATTEMPTS })
  return app
}
