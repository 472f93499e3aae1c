// The click aggregator as a process of its own (shortener-clicks): no public API, only health,
// metrics and the consumer that counts url.clicked into Postgres. Counting in the API process
// cost redirects a quarter of their CPU (docs/performance.md); apart, it also scales on its own
// (instances share the consumer group's partitions).
import { createServer, kafkaPlugin, postgresPlugin, Topics } from '@shortfeed/common'
import { ClicksConfig } from './config.ts'
import { metricsPlugin } from './metrics.ts'
import { clickAggregator } from './workers/click-aggregator.ts'

export async function buildClicksApp (config: ClicksConfig) {
  const app = await createServer({ service: 'shortener-clicks', config })
  await app.register(metricsPlugin)
  // The API process owns the schema; the worker never migrates.
  await app.register(postgresPlugin, { config: { ...config, MIGRATE_ON_START: false }, applicationName: 'shortener-clicks' })
  await app.register(kafkaPlugin, { config, clientId: 'shortener-clicks', topics: [Topics.urlClicked, Topics.urlMilestone] })
  await app.register(clickAggregator, {
    groupId: config.CLICK_AGGREGATOR_GROUP, milestones: config.MILESTONES, topReferrers: config.CLICK_TOP_REFERRERS
  })
  return app
}
