// The shortener as a Fastify app: buildApp(config) registers, in order, the infrastructure
// (Postgres, Redis, Kafka), the links repository and its cache, the click publisher, the
// routes, and the background workers (outbox relay for milestones; the click aggregator unless
// it runs apart, as shortener-clicks: clicks-app.ts).
import {
  createServer, identityPlugin, kafkaPlugin, migrationsDirOf, outboxRelayPlugin, postgresPlugin, PRIVATE_NETWORKS, redisPlugin,
  secretNames, Topics
} from '@shortfeed/common'
import { ShortenerConfig } from './config.ts'
import { metricsPlugin } from './metrics.ts'
import clickPublisher from './plugins/click-publisher.ts'
import linkCache from './plugins/link-cache.ts'
import linksRepository from './plugins/links-repository.ts'
import redirectRoute from './routes/redirect.ts'
import urlRoutes from './routes/urls.ts'
import { selfHostsOf } from './url-policy.ts'
import { clickAggregator } from './workers/click-aggregator.ts'

export const MIGRATIONS_DIR = migrationsDirOf(import.meta.url)
/** Elects one milestone relay per shortener database. */
const OUTBOX_LOCK_KEY = 0x5f0_0001

export async function buildApp (config: ShortenerConfig) {
  const app = await createServer({
    service: 'shortener',
    config,
    redact: secretNames(ShortenerConfig),
    // The gateway sits on loopback or a private network; X-Forwarded-For from it is trusted.
    trustProxy: [...PRIVATE_NETWORKS]
  })
  await app.register(metricsPlugin)

  await app.register(postgresPlugin, { config, applicationName: 'shortener', migrationsDir: MIGRATIONS_DIR })
  await app.register(redisPlugin, { config, connectionName: 'shortener' })
  await app.register(kafkaPlugin, { config, clientId: 'shortener', topics: [Topics.urlClicked, Topics.urlMilestone] })
  await app.register(identityPlugin, { secret: config.INTERNAL_AUTH_SECRET })

  await app.register(linksRepository, { permutationKey: config.CODE_PERMUTATION_KEY })
  await app.register(linkCache, {
    enabled: config.CACHE_ENABLED,
    coalescing: config.COALESCING_ENABLED,
    ttlSeconds: config.CACHE_TTL_SECONDS,
    jitter: config.CACHE_TTL_JITTER,
    negativeTtlSeconds: config.NEGATIVE_CACHE_TTL_SECONDS
  })
  await app.register(clickPublisher, {
    brokers: config.KAFKA_BROKERS,
    flushIntervalMs: config.CLICK_FLUSH_INTERVAL_MS,
    batchSize: config.CLICK_BATCH_SIZE,
    bufferMax: config.CLICK_BUFFER_MAX,
    sendTimeoutMs: config.CLICK_SEND_TIMEOUT_MS,
    enrichment: config.CLICK_ENRICHMENT_ENABLED,
    geoDatabase: config.CLICK_GEO_DATABASE
  })

  await app.register(urlRoutes, {
    publicBaseUrl: config.PUBLIC_BASE_URL,
    selfHosts: selfHostsOf(config.PUBLIC_BASE_URL, config.SELF_HOSTS)
  })
  await app.register(redirectRoute, { status: config.REDIRECT_STATUS })

  // Workers: they start with the app, in the background, and stop when it closes.
  await app.register(outboxRelayPlugin, { lockKey: OUTBOX_LOCK_KEY, backlogGauge: app.shortenerMetrics.outboxBacklog })
  if (config.CLICK_AGGREGATOR_ENABLED) {
    await app.register(clickAggregator, {
      groupId: config.CLICK_AGGREGATOR_GROUP, milestones: config.MILESTONES, topReferrers: config.CLICK_TOP_REFERRERS
    })
  }
  return app
}
