// The timeline API as a Fastify app: buildApp(config) registers, in order, the infrastructure,
// the social graph and posts, the home timeline, passwords and tokens, the routes, and the
// outbox relay that takes post.created, user.followed and user.unfollowed to Kafka.
import {
  createServer, identityPlugin, kafkaPlugin, migrationsDirOf, outboxRelayPlugin, postgresPlugin, PRIVATE_NETWORKS, redisPlugin,
  secretNames
} from '@shortfeed/common'
import { TimelineConfig } from './config.ts'
import { FANOUT_TOPICS } from './workers/fanout-consumer.ts'
import { createSnowflake } from './ids/snowflake.ts'
import { claimWorkerId } from './ids/worker-id.ts'
import { metricsPlugin } from './metrics.ts'
import credentials from './plugins/credentials.ts'
import homeTimeline from './plugins/home-timeline.ts'
import posts from './plugins/posts.ts'
import socialGraph from './plugins/social-graph.ts'
import authRoutes from './routes/auth.ts'
import followingRoutes from './routes/following.ts'
import postRoutes from './routes/posts.ts'
import timelineRoutes from './routes/timeline.ts'
import userRoutes from './routes/users.ts'

export const MIGRATIONS_DIR = migrationsDirOf(import.meta.url)
/** Elects one outbox relay per timeline database. */
const OUTBOX_LOCK_KEY = 0x71e_0001

export async function buildApp (config: TimelineConfig) {
  const app = await createServer({
    service: 'timeline',
    config,
    redact: [...secretNames(TimelineConfig), '*.accessToken'],
    trustProxy: [...PRIVATE_NETWORKS]
  })
  await app.register(metricsPlugin)

  await app.register(postgresPlugin, { config, applicationName: 'timeline', migrationsDir: MIGRATIONS_DIR })
  await app.register(redisPlugin, { config, connectionName: 'timeline' })
  await app.register(kafkaPlugin, { config, clientId: 'timeline', topics: FANOUT_TOPICS })
  await app.register(identityPlugin, { secret: config.INTERNAL_AUTH_SECRET })

  const ids = createSnowflake(await claimWorkerId(app.pg))
  await app.register(socialGraph, { ids })
  await app.register(posts, { ids, cacheTtlSeconds: config.POST_CACHE_TTL_SECONDS })
  await app.register(homeTimeline, { maxEntries: config.TIMELINE_MAX_ENTRIES, inactiveDays: config.FANOUT_INACTIVE_DAYS })
  await app.register(credentials, {
    hashConcurrency: config.PASSWORD_HASH_CONCURRENCY,
    hashMaxWaitMs: config.PASSWORD_HASH_MAX_WAIT_MS,
    privateKeyPem: config.JWT_PRIVATE_KEY,
    tokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS
  })

  await app.register(userRoutes)
  await app.register(authRoutes)
  await app.register(followingRoutes)
  await app.register(postRoutes)
  await app.register(timelineRoutes)

  // Workers: the relay starts with the app, in the background, and stops when it closes.
  await app.register(outboxRelayPlugin, { lockKey: OUTBOX_LOCK_KEY, backlogGauge: app.timelineMetrics.outboxBacklog })
  return app
}
