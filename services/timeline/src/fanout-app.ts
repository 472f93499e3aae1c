// The fan-out worker as a Fastify app: no public API, only health, metrics and the consumer
// that pushes posts onto followers' timelines. It scales apart from the API (more instances
// join the same consumer group).
import { createServer, kafkaPlugin, postgresPlugin, redisPlugin } from '@shortfeed/common'
import { FanoutConfig } from './config.ts'
import { createFanout } from './fanout/fanout.ts'
import { metricsPlugin } from './metrics.ts'
import { createTimelineStore } from './timelines/timeline-store.ts'
import { FANOUT_TOPICS, fanoutConsumer } from './workers/fanout-consumer.ts'

export async function buildFanoutApp (config: FanoutConfig) {
  const app = await createServer({ service: 'timeline-fanout', config })
  await app.register(metricsPlugin)
  // The API process owns the schema; the worker never migrates.
  await app.register(postgresPlugin, { config: { ...config, MIGRATE_ON_START: false }, applicationName: 'timeline-fanout' })
  await app.register(redisPlugin, { config, connectionName: 'timeline-fanout' })
  await app.register(kafkaPlugin, { config, clientId: 'timeline-fanout', topics: FANOUT_TOPICS })

  const fanout = createFanout({
    pool: app.pg,
    store: createTimelineStore(app.redis, config.TIMELINE_MAX_ENTRIES),
    celebrityThreshold: config.CELEBRITY_FOLLOWER_THRESHOLD,
    inactiveDays: config.FANOUT_INACTIVE_DAYS,
    batchSize: config.FANOUT_BATCH_SIZE,
    backfillPosts: config.FOLLOW_BACKFILL_POSTS,
    metrics: app.timelineMetrics
  })
  await app.register(fanoutConsumer, {
    fanout,
    groupId: config.FANOUT_GROUP,
    maxEntries: config.TIMELINE_MAX_ENTRIES,
    attempts: config.KAFKA_HANDLER_ATTEMPTS
  })
  return { app, fanout }
}
