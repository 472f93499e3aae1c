// The notifier as a Fastify app: infrastructure, the pipeline behind a Kafka consumer group
// (retries, DLQ), the channels (live SSE through Redis pub/sub, log), and the read API.
import { consumerLag, createServer, identityPlugin, kafkaPlugin, migrationsDirOf, postgresPlugin, PRIVATE_NETWORKS, redisPlugin, startEventConsumer } from '@shortfeed/common'
import { liveChannel, logChannel } from './channels.ts'
import type { NotifierConfig } from './config.ts'
import { createSseHub } from './live/sse-hub.ts'
import { notifierMetrics as metrics } from './metrics.ts'
import { createPipeline, NOTIFIER_TOPICS } from './pipeline.ts'
import notificationRoutes from './routes/notifications.ts'
import { createNotificationStore } from './store.ts'
import { createUsersClient } from './users-client.ts'

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
  const consumer = await startEventConsumer({
    kafka: app.kafka,
    ready: app.kafkaReady,
    groupId: config.NOTIFIER_GROUP,
    topics: NOTIFIER_TOPICS,
    deadLetters: app.eventProducer,
    logger: app.log,
    attempts: config.KAFKA_HANDLER_ATTEMPTS,
    partitionsConsumedConcurrently: 3,
    handle: pipeline.handle,
    onDeadLetter: (topic) => { metrics.deadLettered.add(1, { topic }) }
  })
  const lag = consumerLag(app.kafka, config.NOTIFIER_GROUP, NOTIFIER_TOPICS)
  const observeLag = async (result: { observe: (value: number, attributes: Record<string, string>) => void }) => {
    for (const [topic, value] of await lag.read().catch(() => new Map<string, number>())) result.observe(value, { topic })
  }
  metrics.consumerLag.addCallback(observeLag)

  // Streams end first so the HTTP server can drain; clients reconnect with Last-Event-ID.
  app.addHook('preClose', async () => { hub.closeAll() })
  app.addHook('onClose', async () => {
    metrics.consumerLag.removeCallback(observeLag)
    await consumer.stop()
    await lag.close()
    subscriber.disconnect()
  })
  return app
}
