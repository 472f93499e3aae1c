// The notifier as a Fastify app: infrastructure, the pipeline behind a Kafka consumer group
// (retries, DLQ), the channels (live SSE through Redis pub/sub, log), and the read API.
import { createServer, identityPlugin, kafkaPlugin, migrationsDirOf, postgresPlugin, PRIVATE_NETWORKS, redisPlugin } from '@shortfeed/common'
import { liveChannel, logChannel } from './channels.ts'
import type { NotifierConfig } from './config.ts'
import { createSseHub } from './live/sse-hub.ts'
import { createPipeline, NOTIFIER_TOPICS } from './pipeline.ts'
import notificationRoutes from './routes/notifications.ts'
import { createNotificationStore } from './store.ts'
import { createUsersClient } from './users-client.ts'
import { notificationConsumer } from './workers/notification-consumer.ts'

export const MIGRATIONS_DIR = migrationsDirOf(import.meta.url)

export async function buildApp (config: NotifierConfig) {
  const app = await createServer({ service: 'notifier', config, trustProxy: [...PRIVATE_NETWORKS] })
  await app.register(postgresPlugin, { config, applicationName: 'notifier', migrationsDir: MIGRATIONS_DIR })
  await app.register(redisPlugin, { config, connectionName: 'notifier' })
  await app.register(kafkaPlugin, { config, clientId: 'notifier', topics: NOTIFIER_TOPICS })
  await app.register(identityPlugin, { secret: config.INTERNAL_AUTH_SECRET })

  const store = createNotificationStore(app.pg, { after: config.GROUP_AFTER, windowSeconds: config.GROUP_WINDOW_SECONDS })
  // A subscribed connection can do nothing else: the hub gets its own.
  const subscriber = app.redis.duplicate({ keyPrefix: '' })
  subscriber.on('error', () => {})
  await subscriber.connect().catch(() => { app.log.warn('redis unreachable: live streams wait for it') })
  const hub = createSseHub({ subscriber, prefix: config.REDIS_KEY_PREFIX, store, heartbeatMs: config.SSE_HEARTBEAT_MS })
  await app.register(notificationRoutes, { store, hub })

  const pipeline = createPipeline({
    store,
    users: createUsersClient(config.USERS_API_URL, config.USERS_API_TIMEOUT_MS),
    channels: [liveChannel(app.redis, config.REDIS_KEY_PREFIX), logChannel(app.log)],
    logger: app.log
  })
  // The worker: it starts with the app, in the background, and stops when it closes.
  await app.register(notificationConsumer, { pipeline, groupId: config.NOTIFIER_GROUP, attempts: config.KAFKA_HANDLER_ATTEMPTS })

  // Streams end first so the HTTP server can drain; clients reconnect with Last-Event-ID.
  app.addHook('preClose', async () => { hub.closeAll() })
  app.addHook('onClose', async () => { subscriber.disconnect() })
  return app
}
